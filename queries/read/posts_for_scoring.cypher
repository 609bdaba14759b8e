// every loaded post with its author and media, for scoring from Neo4j — $skip, $limit
MATCH (a:Account)-[:POSTED]->(p:Post)
WITH a, p ORDER BY p.uid SKIP $skip LIMIT $limit
OPTIONAL MATCH (p)-[:HAS_MEDIA]->(m:Media)
RETURN p {.*, account_uid: a.uid} AS post, collect(m {.*}) AS media
ORDER BY post.uid
