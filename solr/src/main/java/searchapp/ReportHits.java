package searchapp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.util.BytesRef;
import org.apache.solr.common.params.SolrParams;
import org.apache.solr.common.util.NamedList;
import org.apache.solr.common.util.SimpleOrderedMap;
import org.apache.solr.handler.component.ResponseBuilder;
import org.apache.solr.handler.component.SearchComponent;
import org.apache.solr.handler.component.ShardRequest;
import org.apache.solr.handler.component.ShardResponse;
import org.apache.solr.search.DocIterator;
import org.apache.solr.search.DocSet;

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
 * <p>Request: {@code reportHits=true} (and {@code reportHits.field}, default {@code doc_id}).
 * Response: {@code "reportHits": {"values": [...], "counts": [...]}}, the values in no set
 * order. Distributed: each shard counts its hits, the coordinator sums the counts (shards that
 * failed under {@code shards.tolerant} are left out, as the query component leaves them out
 * of the total).
 */
public final class ReportHits extends SearchComponent {

  public static final String PARAM = "reportHits";
  public static final String FIELD_PARAM = "reportHits.field";
  private static final String MERGED = "searchapp.reportHits";

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
    DocSet hits = rb.getResults().docSet;
    SortedDocValues values = rb.req.getSearcher().getSlowAtomicReader().getSortedDocValues(field);
    List<String> names = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    if (values != null && hits != null) {
      int[] byOrd = new int[values.getValueCount()];
      // The hits come in ascending doc order, as a docValues iterator must be read.
      for (DocIterator it = hits.iterator(); it.hasNext(); ) {
        if (values.advanceExact(it.nextDoc())) {
          byOrd[values.ordValue()]++;
        }
      }
      for (int ord = 0; ord < byOrd.length; ord++) {
        if (byOrd[ord] > 0) {
          BytesRef term = values.lookupOrd(ord);
          names.add(term.utf8ToString());
          counts.add(byOrd[ord]);
        }
      }
    }
    rb.rsp.add(PARAM, result(names, counts));
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
    Map<String, Integer> merged = merged(rb);
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
      for (int i = 0; i < names.size(); i++) {
        merged.merge((String) names.get(i), ((Number) counts.get(i)).intValue(), Integer::sum);
      }
    }
  }

  @Override
  public void finishStage(ResponseBuilder rb) {
    if (!wanted(rb.req.getParams()) || rb.stage != ResponseBuilder.STAGE_EXECUTE_QUERY) {
      return;
    }
    Map<String, Integer> merged = merged(rb);
    rb.rsp.add(PARAM, result(new ArrayList<>(merged.keySet()), new ArrayList<>(merged.values())));
  }

  @Override
  public String getDescription() {
    return "searchapp: hits counted by report";
  }

  private static boolean wanted(SolrParams params) {
    return params.getBool(PARAM, false);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Integer> merged(ResponseBuilder rb) {
    return (Map<String, Integer>)
        rb.req.getContext().computeIfAbsent(MERGED, k -> new LinkedHashMap<String, Integer>());
  }

  private static SimpleOrderedMap<Object> result(List<String> names, List<Integer> counts) {
    SimpleOrderedMap<Object> out = new SimpleOrderedMap<>();
    out.add("values", names);
    out.add("counts", counts);
    return out;
  }
}
