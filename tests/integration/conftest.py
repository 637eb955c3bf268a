"""The client tests use the shared virtual-camera fixtures of tests/conftest.py (vcam, camera, connect, ...)."""
