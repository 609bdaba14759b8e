// link posts to canonical URLs — $rows: [{post_uid, target}]
UNWIND $rows AS row
MATCH (p:Post {uid: row.post_uid})
MERGE (u:Url {url: row.target})
MERGE (p)-[:LINKS]->(u)
