// a cluster's members with their coordination evidence inside the cluster — $cluster_id
MATCH (a:Account)-[m:MEMBER_OF]->(c:Cluster {cluster_id: $cluster_id})
OPTIONAL MATCH (a)-[r:COORDINATED_WITH]-(b:Account)-[:MEMBER_OF]->(c)
WITH a, m, c, b, r ORDER BY b.uid
RETURN a.uid AS account, a.handle AS handle, a.platform AS platform, a.profile_url AS profile_url,
       m.degree AS degree, m.strength AS strength, c.score AS cluster_score,
       collect(DISTINCT {peer: b.uid, weight: r.weight, signals: r.signals, evidence: r.evidence}) AS evidence
ORDER BY account
