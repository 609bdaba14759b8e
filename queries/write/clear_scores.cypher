// remove earlier scoring results (clusters, memberships, coordination edges) — no params
MATCH (c:Cluster)
DETACH DELETE c
