// remove earlier COORDINATED_WITH edges, in batches — no params
MATCH (:Account)-[r:COORDINATED_WITH]->(:Account)
CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS
