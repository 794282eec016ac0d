package searchapp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.FieldInvertState;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.CollectionStatistics;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.PhraseQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermStatistics;
import org.apache.lucene.search.Weight;
import org.apache.lucene.search.similarities.Similarity;
import org.apache.solr.common.params.SolrParams;
import org.apache.solr.common.util.NamedList;
import org.apache.solr.common.util.SimpleOrderedMap;
import org.apache.solr.handler.component.ResponseBuilder;
import org.apache.solr.handler.component.SearchComponent;
import org.apache.solr.handler.component.ShardRequest;
import org.apache.solr.handler.component.ShardResponse;
import org.apache.solr.search.DocIterator;
import org.apache.solr.search.DocSet;
import org.apache.solr.search.SolrIndexSearcher;

/**
 * The hits of a search counted by one single-valued docValues field (searchapp: the report,
 * {@code doc_id}), every value with a hit, in one pass over the hits.
 *
 * <p>searchapp's page facets (town, year, type, place) are properties of the report, so the
 * engine derives all of them from these counts and its table of reports. The JSON Facet API
 * would read each column's docValues for every hit and, with {@code limit:-1}, make, send
 * and merge a bucket object per value: at 200 MB that is most of a 2-character word's
 * request. Here a hit costs one ordinal read and a value one string.
 *
 * <p>With {@code reportHits.phrase} (repeated: the query's terms, each as its normalised
 * characters) each report also gets its verbatim occurrences: a hit counts the sum of its
 * terms' occurrences, at least 1 (searchapp's trend and towns). A term's occurrences are the
 * frequency of its phrase over the character pairs of {@code grams} (one character: its
 * frequency in {@code chars}), so each start is one occurrence; searchapp sends only terms
 * whose occurrences cannot overlap, where that equals counting them in the text.
 *
 * <p>Request: {@code reportHits=true} (and {@code reportHits.field}, default {@code doc_id}).
 * Response: {@code "reportHits": {"values": [...], "counts": [...]}} (and {@code
 * "occurrences": [...]}), the values in no set order. Distributed: each shard counts its
 * hits, the coordinator sums the counts (shards that failed under {@code shards.tolerant} are
 * left out, as the query component leaves them out of the total).
 */
public final class ReportHits extends SearchComponent {

  public static final String PARAM = "reportHits";
  public static final String FIELD_PARAM = "reportHits.field";
  public static final String PHRASE_PARAM = "reportHits.phrase";
  private static final String MERGED = "searchapp.reportHits";
  private static final String PAIRS = "grams";
  private static final String CHARS = "chars";

  @Override
  public void prepare(ResponseBuilder rb) {
    if (wanted(rb.req.getParams())) {
      rb.setNeedDocSet(true);
    }
  }

  @Override
  public void process(ResponseBuilder rb) throws IOException {
    SolrParams params = rb.req.getParams();
    if (!wanted(params) || rb.getResults() == null) {
      return;
    }
    String field = params.get(FIELD_PARAM, "doc_id");
    String[] phrases = params.getParams(PHRASE_PARAM);
    DocSet hits = rb.getResults().docSet;
    SolrIndexSearcher searcher = rb.req.getSearcher();
    SortedDocValues values = searcher.getSlowAtomicReader().getSortedDocValues(field);
    Map<String, long[]> counted = new LinkedHashMap<>();
    if (values != null && hits != null) {
      int[] byOrd = new int[values.getValueCount()];
      long[] occurrences = phrases == null ? null : new long[byOrd.length];
      Occurrences counter = phrases == null ? null : new Occurrences(searcher, phrases);
      // The hits come in ascending doc order, as docValues and scorers must be read.
      for (DocIterator it = hits.iterator(); it.hasNext(); ) {
        int doc = it.nextDoc();
        if (values.advanceExact(doc)) {
          int ord = values.ordValue();
          byOrd[ord]++;
          if (counter != null) {
            occurrences[ord] += Math.max(1, counter.at(doc));
          }
        }
      }
      for (int ord = 0; ord < byOrd.length; ord++) {
        if (byOrd[ord] > 0) {
          long occ = occurrences == null ? 0 : occurrences[ord];
          counted.put(values.lookupOrd(ord).utf8ToString(), new long[] {byOrd[ord], occ});
        }
      }
    }
    rb.rsp.add(PARAM, result(counted, phrases != null));
  }

  /** The summed phrase frequencies of the terms in one document, read in doc order. */
  private static final class Occurrences {
    private final List<LeafReaderContext> leaves;
    private final Weight[] weights;
    private final Scorer[] scorers;
    private final DocIdSetIterator[] docs;
    private int leaf = -1;
    private int leafEnd = 0;

    Occurrences(SolrIndexSearcher solr, String[] phrases) throws IOException {
      IndexSearcher searcher = new IndexSearcher(solr.getIndexReader());
      searcher.setSimilarity(new FrequencySimilarity());
      searcher.setQueryCache(null);
      leaves = searcher.getIndexReader().leaves();
      weights = new Weight[phrases.length];
      for (int i = 0; i < phrases.length; i++) {
        Query query = searcher.rewrite(phraseQuery(phrases[i]));
        weights[i] = searcher.createWeight(query, ScoreMode.COMPLETE, 1f);
      }
      scorers = new Scorer[phrases.length];
      docs = new DocIdSetIterator[phrases.length];
    }

    long at(int doc) throws IOException {
      while (doc >= leafEnd) {
        leaf++;
        LeafReaderContext context = leaves.get(leaf);
        leafEnd = context.docBase + context.reader().maxDoc();
        for (int i = 0; i < weights.length; i++) {
          scorers[i] = weights[i].scorer(context);
          docs[i] = scorers[i] == null ? null : scorers[i].iterator();
        }
      }
      int local = doc - leaves.get(leaf).docBase;
      long sum = 0;
      for (int i = 0; i < scorers.length; i++) {
        if (docs[i] == null) {
          continue;
        }
        int at = docs[i].docID() < local ? docs[i].advance(local) : docs[i].docID();
        if (at == local) {
          sum += (long) scorers[i].score();
        }
      }
      return sum;
    }
  }

  /** A term's phrase over the character pairs (one character: the term in chars). */
  static Query phraseQuery(String units) {
    int[] points = units.codePoints().toArray();
    if (points.length == 1) {
      return new TermQuery(new Term(CHARS, new String(points, 0, 1)));
    }
    PhraseQuery.Builder phrase = new PhraseQuery.Builder();
    for (int i = 0; i + 1 < points.length; i++) {
      phrase.add(new Term(PAIRS, new String(points, i, 2)), i);
    }
    return phrase.build();
  }

  /** Scores a document by its frequency: a term's, or a phrase's number of matches. */
  static final class FrequencySimilarity extends Similarity {
    @Override
    public long computeNorm(FieldInvertState state) {
      return 1;
    }

    @Override
    public SimScorer scorer(
        float boost, CollectionStatistics collectionStats, TermStatistics... termStats) {
      return new SimScorer() {
        @Override
        public float score(float freq, long norm) {
          return freq;
        }
      };
    }
  }

  @Override
  public void modifyRequest(ResponseBuilder rb, SearchComponent who, ShardRequest sreq) {
    if (!wanted(rb.req.getParams())) {
      return;
    }
    // Count on the shards once, with the first round (the one that finds the hits).
    sreq.params.set(PARAM, (sreq.purpose & ShardRequest.PURPOSE_GET_TOP_IDS) != 0);
  }

  @Override
  public void handleResponses(ResponseBuilder rb, ShardRequest sreq) {
    if (!wanted(rb.req.getParams()) || (sreq.purpose & ShardRequest.PURPOSE_GET_TOP_IDS) == 0) {
      return;
    }
    Map<String, long[]> merged = merged(rb);
    for (ShardResponse shard : sreq.responses) {
      if (shard.getException() != null || shard.getSolrResponse() == null) {
        continue;
      }
      Object part = shard.getSolrResponse().getResponse().get(PARAM);
      if (!(part instanceof NamedList<?> counted)) {
        continue;
      }
      List<?> names = (List<?>) counted.get("values");
      List<?> counts = (List<?>) counted.get("counts");
      List<?> occurrences = (List<?>) counted.get("occurrences");
      for (int i = 0; i < names.size(); i++) {
        long occ = occurrences == null ? 0 : ((Number) occurrences.get(i)).longValue();
        long[] cell = merged.computeIfAbsent((String) names.get(i), k -> new long[2]);
        cell[0] += ((Number) counts.get(i)).longValue();
        cell[1] += occ;
      }
    }
  }

  @Override
  public void finishStage(ResponseBuilder rb) {
    if (!wanted(rb.req.getParams()) || rb.stage != ResponseBuilder.STAGE_EXECUTE_QUERY) {
      return;
    }
    rb.rsp.add(PARAM, result(merged(rb), rb.req.getParams().getParams(PHRASE_PARAM) != null));
  }

  @Override
  public String getDescription() {
    return "searchapp: hits counted by report";
  }

  private static boolean wanted(SolrParams params) {
    return params.getBool(PARAM, false);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, long[]> merged(ResponseBuilder rb) {
    return (Map<String, long[]>)
        rb.req.getContext().computeIfAbsent(MERGED, k -> new LinkedHashMap<String, long[]>());
  }

  private static SimpleOrderedMap<Object> result(Map<String, long[]> counted, boolean phrases) {
    List<String> names = new ArrayList<>(counted.size());
    List<Long> counts = new ArrayList<>(counted.size());
    List<Long> occurrences = new ArrayList<>(counted.size());
    for (Map.Entry<String, long[]> cell : counted.entrySet()) {
      names.add(cell.getKey());
      counts.add(cell.getValue()[0]);
      occurrences.add(cell.getValue()[1]);
    }
    SimpleOrderedMap<Object> out = new SimpleOrderedMap<>();
    out.add("values", names);
    out.add("counts", counts);
    if (phrases) {
      out.add("occurrences", occurrences);
    }
    return out;
  }
}
