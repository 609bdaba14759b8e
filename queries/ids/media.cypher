// Media key, internal id and content hash, for incremental writes — no params
MATCH (n:Media)
RETURN n.key AS k, id(n) AS i, n.cib_hash AS h
