// :HAS_MEDIA relationships between nodes given by internal id (idempotent), columnar — $s: [id], $t: [id]
UNWIND range(0, size($s) - 1) AS i
MATCH (a)
WHERE id(a) = $s[i]
MATCH (b)
WHERE id(b) = $t[i]
MERGE (a)-[r:HAS_MEDIA]->(b)
