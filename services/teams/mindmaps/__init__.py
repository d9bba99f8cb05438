"""Mind maps: maps, nodes, links, comments and votes (stored by the teams service)."""
