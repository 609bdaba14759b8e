// write cluster memberships — $rows: [{cluster_id, account_uid, degree, strength}]
UNWIND $rows AS row
MATCH (a:Account {uid: row.account_uid})
MATCH (c:Cluster {cluster_id: row.cluster_id})
MERGE (a)-[m:MEMBER_OF]->(c)
SET m.degree = row.degree, m.strength = row.strength
