-- An upstream reference (such as fal's request id) kept with a running job, so that the attempt
-- after a crash resumes that upstream request instead of submitting (and paying for) another.
ALTER TABLE jobs ADD COLUMN upstream TEXT;
