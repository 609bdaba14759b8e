// Account key, internal id and content hash, for incremental writes — no params
MATCH (n:Account)
RETURN n.uid AS k, id(n) AS i, n.cib_hash AS h
