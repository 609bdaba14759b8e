// clusters whose members span more than one platform — $min_platforms (default 2)
MATCH (a:Account)-[:MEMBER_OF]->(c:Cluster)
WITH c, a ORDER BY a.platform
WITH c, collect(DISTINCT a.platform) AS platforms, count(a) AS size
WHERE size(platforms) >= $min_platforms
RETURN c.cluster_id AS cluster_id, c.score AS score, size, platforms
ORDER BY score DESC, cluster_id
