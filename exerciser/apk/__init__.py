"""APK reading: manifest facts (pyaxmlparser), dangerous permissions by group, manifest-level category 7.

Importing this package is cheap; pyaxmlparser is loaded on the first `read_apk`.
"""

from exerciser.apk.reader import ApkInfo, read_apk

__all__ = ["ApkInfo", "read_apk"]
