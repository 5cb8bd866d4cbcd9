-- Extensions the core needs. Only what Amazon RDS for PostgreSQL offers:
-- btree_gist lets one GiST index combine "same provider" (=) with "periods overlap" (&&).
create extension if not exists btree_gist;
