"""Test overlay on the real settings: fast hashing, no .env, no secrets needed."""

import os

os.environ.setdefault(
    "DJANGO_SECRET_KEY", "tests-only-secret-key-0123456789abcdefghijklmnop"
)

from readinglist.settings import *  # noqa: F403

# No test reaches bilibili or YouTube: the video tests pass clients for local fakes.
BILIBILI_API_URL = ""
YOUTUBE_API_KEY = ""
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
DEBUG = False
# Hashed static names need collectstatic; tests render templates without it.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the app folders, as in development (no collectstatic).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# The test client speaks plain http; tests/test_deploy.py turns the redirect back on.
SECURE_SSL_REDIRECT = False
if CACHES["default"]["BACKEND"].endswith("FileBasedCache"):  # noqa: F405
    # The shared default cache, in a folder of this test process: a test run never
    # clears the cache of `make run` or of another run.
    import atexit
    import shutil
    import tempfile

    CACHES["default"]["LOCATION"] = tempfile.mkdtemp(prefix="rl-test-cache-")  # noqa: F405
    atexit.register(shutil.rmtree, CACHES["default"]["LOCATION"], True)  # noqa: F405
