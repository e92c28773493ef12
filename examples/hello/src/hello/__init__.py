"""Example project shipped by airgap-installer."""
