// the posts that tie two accounts (evidence post-id pairs of their coordination edge) — $a, $b
MATCH (x:Account {uid: $a})-[r:COORDINATED_WITH]-(y:Account {uid: $b})
UNWIND r.evidence AS pair
WITH r, split(pair, '|') AS ids
MATCH (p:Post {uid: ids[0]}), (q:Post {uid: ids[1]})
RETURN p.uid AS post_a, p.created_at AS at_a, p.text AS text_a, q.uid AS post_b, q.created_at AS at_b,
       q.text AS text_b, r.signals AS signals
ORDER BY post_a, post_b
