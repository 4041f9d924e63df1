"""The dashboard has no documents of its own: it reads releases, deployments and environments."""
