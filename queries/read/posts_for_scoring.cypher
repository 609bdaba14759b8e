// every loaded post with its author and media, for scoring from Neo4j, one page after a uid — $after, $limit
MATCH (a:Account)-[:POSTED]->(p:Post)
WHERE p.uid > $after
WITH a, p ORDER BY p.uid LIMIT $limit
OPTIONAL MATCH (p)-[:HAS_MEDIA]->(m:Media)
WITH a, p, m ORDER BY p.uid, m.key
RETURN p {.*, account_uid: a.uid} AS post, collect(m {.*}) AS media
ORDER BY post.uid
