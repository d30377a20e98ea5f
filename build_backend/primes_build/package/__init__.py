"""The release package: assembly, manifest, start script, tarball, signing, earlier releases."""
