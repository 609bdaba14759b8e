// Url key, internal id and content hash, for incremental writes — no params
MATCH (n:Url)
RETURN n.url AS k, id(n) AS i, n.cib_hash AS h
