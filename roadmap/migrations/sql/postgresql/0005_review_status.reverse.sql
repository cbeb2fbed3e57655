-- PostgreSQL counterpart of ../sqlite/0005_review_status.reverse.sql
DELETE FROM instance_config WHERE key = 'review_required';
DELETE FROM terminology WHERE domain = 'roadmap_status' AND internal_key = 'review'
  AND NOT EXISTS (SELECT 1 FROM roadmap_items WHERE status_key = 'review');
