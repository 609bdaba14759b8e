// unique Post.uid — no params
CREATE CONSTRAINT post_uid IF NOT EXISTS FOR (n:Post) REQUIRE n.uid IS UNIQUE
