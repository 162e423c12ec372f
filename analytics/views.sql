-- Views over the Parquet exports for Azure Synapse serverless SQL (infra/README.md "Analytics").
-- Run in a database of your own on the serverless pool (not master), once:
--   CREATE DATABASE image_pipeline; then USE image_pipeline;
-- Replace <account> with the ANALYTICS_STORAGE_ACCOUNT_NAME output. Access is your Entra ID identity (the analysts
-- group has Storage Blob Data Reader on the container): no keys, no SAS.

CREATE EXTERNAL DATA SOURCE image_pipeline_analytics
  WITH (LOCATION = 'https://<account>.dfs.core.windows.net/analytics');
GO

-- One row per image that ended; `date` is the Hive partition (the day of the upload), filtered on it, the engine
-- reads only those folders.
CREATE OR ALTER VIEW facts AS
SELECT *, CAST(r.filepath(1) AS date) AS [date]
FROM OPENROWSET(BULK 'facts/date=*/*.parquet', DATA_SOURCE = 'image_pipeline_analytics', FORMAT = 'PARQUET') AS r;
GO

CREATE OR ALTER VIEW batches AS
SELECT *, CAST(r.filepath(1) AS date) AS [date]
FROM OPENROWSET(BULK 'batches/date=*/*.parquet', DATA_SOURCE = 'image_pipeline_analytics', FORMAT = 'PARQUET') AS r;
GO

-- The saved questions of `image-pipeline analytics`, as views for Power BI (DirectQuery on the serverless endpoint).
CREATE OR ALTER VIEW daily_volume AS
SELECT [day], COUNT(*) AS images,
  SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
  SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed
FROM facts GROUP BY [day];
GO

CREATE OR ALTER VIEW success_by_format AS
SELECT COALESCE(format, 'unknown') AS format, COUNT(*) AS images,
  AVG(CASE WHEN status = 'succeeded' THEN 1.0 ELSE 0.0 END) AS success_rate
FROM facts GROUP BY COALESCE(format, 'unknown');
GO

CREATE OR ALTER VIEW processing_time AS
SELECT DISTINCT COALESCE(format, 'unknown') AS format,
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY processing_ms) OVER (PARTITION BY format) AS p50_ms,
  PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY processing_ms) OVER (PARTITION BY format) AS p95_ms
FROM facts WHERE status = 'succeeded';
GO

CREATE OR ALTER VIEW size_distribution AS
SELECT CASE WHEN bytes < 102400 THEN '1: < 100 KB' WHEN bytes < 1048576 THEN '2: 100 KB - 1 MB'
    WHEN bytes < 5242880 THEN '3: 1 - 5 MB' ELSE '4: >= 5 MB' END AS size, COUNT(*) AS images
FROM facts WHERE status = 'succeeded'
GROUP BY CASE WHEN bytes < 102400 THEN '1: < 100 KB' WHEN bytes < 1048576 THEN '2: 100 KB - 1 MB'
    WHEN bytes < 5242880 THEN '3: 1 - 5 MB' ELSE '4: >= 5 MB' END;
GO

CREATE OR ALTER VIEW megapixel_distribution AS
SELECT CASE WHEN megapixels < 1 THEN '1: < 1 MP' WHEN megapixels < 4 THEN '2: 1 - 4 MP' WHEN megapixels < 12 THEN '3: 4 - 12 MP'
    WHEN megapixels < 24 THEN '4: 12 - 24 MP' ELSE '5: >= 24 MP' END AS megapixels, COUNT(*) AS images
FROM facts WHERE status = 'succeeded'
GROUP BY CASE WHEN megapixels < 1 THEN '1: < 1 MP' WHEN megapixels < 4 THEN '2: 1 - 4 MP' WHEN megapixels < 12 THEN '3: 4 - 12 MP'
    WHEN megapixels < 24 THEN '4: 12 - 24 MP' ELSE '5: >= 24 MP' END;
GO

CREATE OR ALTER VIEW duplicate_rate AS
SELECT SUM(CASE WHEN duplicate_of IS NOT NULL THEN 1 ELSE 0 END) AS duplicates, COUNT(*) AS processed,
  CAST(SUM(CASE WHEN duplicate_of IS NOT NULL THEN 1 ELSE 0 END) AS float) / NULLIF(COUNT(*), 0) AS duplicate_rate
FROM facts WHERE status = 'succeeded';
GO

CREATE OR ALTER VIEW top_failure_reasons AS
SELECT failure_category, COUNT(*) AS images FROM facts WHERE status = 'failed' GROUP BY failure_category;
GO
