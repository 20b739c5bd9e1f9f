"""pytest plugin (entry point `exerciser`): fixtures for app teams. Filled by the pre-release checks work."""
