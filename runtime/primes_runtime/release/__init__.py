"""The release handler: unpack, check, install, make permanent, downgrade and uninstall releases."""
