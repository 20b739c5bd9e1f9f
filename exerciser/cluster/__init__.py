"""Racks across many hosts: a suite's jobs on a Celery queue (Redis broker), served by workers with devices.

    exerciser submit SUITE --broker redis://HOST/0             -> suite id; one job per (scenario, app)
    exerciser worker --broker redis://HOST/0 --virtual 2 --results /mnt/share/results
    exerciser status SUITE_ID --broker redis://HOST/0
    exerciser collect SUITE_ID --broker redis://HOST/0 --out runs/suite

Modules: `routing` (which queue a job needs, which queues a device serves), `jobs` (the job message and
the suite record), `keys` (the job's state in Redis: lease, attempts, done), `store` (results store by
URL through fsspec), `execute` (one job on one device, as a Celery task), `parking` (a long wait on a
phone that allows no clock change: the attempt ends with a checkpoint, a delayed task resumes the job on
the same phone), `child` (one Celery worker process per device), `supervisor` (`exerciser worker`),
`submit`, `progress` (`status`), `collect`.

Faults: a worker killed mid-job leaves its job's message unacknowledged (acks_late); after the
visibility timeout an idle worker hands it out again, and the next attempt fetches what the lost one
recorded (it was copied to the store as it ran) into `<app>/attempts/<n>/`. A lost device hands its job
back to the queue at once. A job completes once, ever (SET NX in Redis, a marker in the store), so a
redelivered message never runs it again. Run the broker's Redis with persistence (`appendonly yes`):
then a broker restart loses nothing, and workers reconnect on their own.
"""
