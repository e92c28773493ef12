from airgap_installer.cli import main

raise SystemExit(main())
