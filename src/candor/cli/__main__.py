import sys

from candor.cli.main import main

sys.exit(main())
