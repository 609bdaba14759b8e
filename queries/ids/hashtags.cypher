// Hashtag key, internal id and content hash, for incremental writes — no params
MATCH (n:Hashtag)
RETURN n.tag AS k, id(n) AS i, n.cib_hash AS h
