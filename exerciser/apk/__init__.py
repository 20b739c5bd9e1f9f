"""APK reading: manifest facts (our own zip, AXML and resources.arsc readers), dangerous permissions by
group, manifest-level category 7. Importing this package is cheap: no third-party parser is loaded.
"""

from exerciser.apk.reader import ApkInfo, read_apk

__all__ = ["ApkInfo", "read_apk"]
