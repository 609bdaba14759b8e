// every loaded post with its author and media, for scoring from Neo4j, one page after a uid; urls and hashtags come back (sorted) from its LINKS and TAGS — $after, $limit
MATCH (a:Account)-[:POSTED]->(p:Post)
WHERE p.uid > $after
WITH a, p ORDER BY p.uid LIMIT $limit
OPTIONAL MATCH (p)-[:HAS_MEDIA]->(m:Media)
WITH a, p, m ORDER BY p.uid, m.key
WITH a, p, collect(m {.*}) AS media
RETURN p {.*, account_uid: a.uid,
          urls: COLLECT { MATCH (p)-[:LINKS]->(u:Url) RETURN u.url ORDER BY u.url },
          hashtags: COLLECT { MATCH (p)-[:TAGS]->(h:Hashtag) RETURN h.tag ORDER BY h.tag }} AS post, media
ORDER BY post.uid
