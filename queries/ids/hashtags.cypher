// Hashtag keys, internal ids and content hashes (as one-element lists: nulls kept in place), as three aligned lists, for incremental writes — no params
MATCH (n:Hashtag)
WHERE n.tag IS NOT NULL
RETURN collect(n.tag) AS k, collect(id(n)) AS i, collect([n.cib_hash]) AS h
