// link reposts/shares to the reposted post (a stub node when the original is not loaded) — $rows: [{post_uid, target}]
UNWIND $rows AS row
MATCH (p:Post {uid: row.post_uid})
MERGE (o:Post {uid: row.target})
MERGE (p)-[:REPOSTS]->(o)
