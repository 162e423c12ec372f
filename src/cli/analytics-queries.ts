/**
 * The saved queries of `image-pipeline analytics` (DuckDB SQL over the views `facts` and `batches`, README
 * "Analytics exports" lists the columns). analytics/views.sql has Synapse serverless views, analytics/starter.ipynb
 * Spark versions of the same questions.
 */
export const SAVED_QUERIES: Record<string, { title: string; sql: string }> = {
  'daily-volume': {
    title: 'Images per day, by status',
    sql: `SELECT day, count(*) AS images,
  count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
  count(*) FILTER (WHERE status = 'failed') AS failed
FROM facts GROUP BY day ORDER BY day`,
  },
  'success-by-format': {
    title: 'Success rate by format (failed images by the type sniffed at upload)',
    sql: `SELECT coalesce(format, 'unknown') AS format, count(*) AS images,
  round(avg(CASE WHEN status = 'succeeded' THEN 1.0 ELSE 0.0 END), 4) AS success_rate
FROM facts GROUP BY 1 ORDER BY images DESC, format`,
  },
  'processing-time': {
    title: 'Processing time per image, p50 and p95 (ms), by format',
    sql: `SELECT coalesce(format, 'all') AS format, count(*) AS images,
  round(quantile_cont(processing_ms, 0.5), 1) AS p50_ms,
  round(quantile_cont(processing_ms, 0.95), 1) AS p95_ms
FROM facts WHERE status = 'succeeded'
GROUP BY ROLLUP (format) ORDER BY format NULLS LAST`,
  },
  'size-distribution': {
    title: 'File sizes of processed images',
    sql: `SELECT CASE WHEN bytes < 102400 THEN '1: < 100 KB' WHEN bytes < 1048576 THEN '2: 100 KB - 1 MB'
    WHEN bytes < 5242880 THEN '3: 1 - 5 MB' ELSE '4: >= 5 MB' END AS size, count(*) AS images
FROM facts WHERE status = 'succeeded' GROUP BY 1 ORDER BY 1`,
  },
  'megapixel-distribution': {
    title: 'Megapixels of processed images',
    sql: `SELECT CASE WHEN megapixels < 1 THEN '1: < 1 MP' WHEN megapixels < 4 THEN '2: 1 - 4 MP'
    WHEN megapixels < 12 THEN '3: 4 - 12 MP' WHEN megapixels < 24 THEN '4: 12 - 24 MP' ELSE '5: >= 24 MP' END AS megapixels,
  count(*) AS images
FROM facts WHERE status = 'succeeded' GROUP BY 1 ORDER BY 1`,
  },
  'duplicate-rate': {
    title: 'Near-duplicates: processed images that repeat an earlier one',
    sql: `SELECT count(*) FILTER (WHERE duplicate_of IS NOT NULL) AS duplicates,
  count(*) AS processed,
  round(count(*) FILTER (WHERE duplicate_of IS NOT NULL) / greatest(count(*), 1), 4) AS duplicate_rate,
  count(DISTINCT duplicate_group) FILTER (WHERE duplicate_of IS NOT NULL) AS groups
FROM facts WHERE status = 'succeeded'`,
  },
  'top-failure-reasons': {
    title: 'Top failure reasons',
    sql: `SELECT failure_category, count(*) AS images
FROM facts WHERE status = 'failed' GROUP BY 1 ORDER BY images DESC, failure_category LIMIT 10`,
  },
};
