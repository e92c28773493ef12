"""The target-side runtime: stdlib only, Python 3.8+, copied into the payload as `airgap_runtime`.

The shell header verifies the file, checks the host, finds the interpreter and carves uv; then it runs
this package as a zipapp (`python -I installer.run install ...`).
"""
