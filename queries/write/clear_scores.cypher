// remove earlier scoring results (clusters and their memberships), in batches — no params
MATCH (c:Cluster)
CALL (c) { DETACH DELETE c } IN TRANSACTIONS OF 10000 ROWS
