"""airgap-installer: one self-extracting file that installs a uv project with no network."""

__version__ = "0.1.0"
