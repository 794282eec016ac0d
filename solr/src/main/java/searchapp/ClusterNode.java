package searchapp;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * One process of the local SolrCloud: a standalone ZooKeeper server or one SolrCloud node.
 *
 * <p>Usage:
 *
 * <pre>
 *   ClusterNode zk   --port 2181 --dir DATA_DIR
 *   ClusterNode solr --port 8983 --zk 127.0.0.1:2181 --home SOLR_HOME
 * </pre>
 *
 * Both bind 127.0.0.1, print one line "READY ..." on standard output once they serve, and stop
 * cleanly on SIGTERM. searchapp/cluster.py starts one JVM per process so a test can kill -9 a
 * single node.
 */
public final class ClusterNode {

  private ClusterNode() {}

  public static void main(String[] args) throws Exception {
    // Before the first logger exists: this project's logging set-up, not log4j's default.
    if (System.getProperty("log4j2.configurationFile") == null) {
      System.setProperty("log4j2.configurationFile", "searchapp-log4j2.xml");
    }
    if (args.length < 1) {
      usage("missing command");
    }
    Map<String, String> options = parseOptions(args);
    switch (args[0]) {
      case "zk" -> runZooKeeper(
          Integer.parseInt(require(options, "port")), Paths.get(require(options, "dir")));
      case "solr" -> runSolrNode(
          Integer.parseInt(require(options, "port")),
          require(options, "zk"),
          Paths.get(require(options, "home")));
      default -> usage("unknown command " + args[0]);
    }
  }

  /** Run a standalone ZooKeeper server on 127.0.0.1:port until the JVM is told to stop. */
  static void runZooKeeper(int port, Path dataDir) throws Exception {
    // No AdminServer (it would open port 8080); allow the four-letter words Solr's UI uses.
    System.setProperty("zookeeper.admin.enableServer", "false");
    System.setProperty("zookeeper.4lw.commands.whitelist", "ruok,srvr,mntr,conf");
    Files.createDirectories(dataDir);
    Properties props = new Properties();
    props.setProperty("dataDir", dataDir.toAbsolutePath().toString());
    props.setProperty("clientPort", Integer.toString(port));
    props.setProperty("clientPortAddress", "127.0.0.1");
    props.setProperty("tickTime", "2000");
    props.setProperty("maxClientCnxns", "0");
    props.setProperty("autopurge.snapRetainCount", "3");
    props.setProperty("autopurge.purgeInterval", "1");
    org.apache.zookeeper.server.quorum.QuorumPeerConfig peerConfig =
        new org.apache.zookeeper.server.quorum.QuorumPeerConfig();
    peerConfig.parseProperties(props);
    org.apache.zookeeper.server.ServerConfig config = new org.apache.zookeeper.server.ServerConfig();
    config.readFrom(peerConfig);

    org.apache.zookeeper.server.ZooKeeperServerMain server =
        new org.apache.zookeeper.server.ZooKeeperServerMain() {
          @Override
          protected void serverStarted() {
            super.serverStarted();
            System.out.println("READY zk 127.0.0.1:" + port);
            System.out.flush();
          }
        };
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "zk-shutdown"));
    server.runFromConfig(config); // blocks until the server shuts down
  }

  /** Run one SolrCloud node on 127.0.0.1:port (context /solr) joined to the ZooKeeper zkHost. */
  static void runSolrNode(int port, String zkHost, Path home) throws Exception {
    Files.createDirectories(home);
    // This JVM has ReportHits on its class path: the configset's `/counted` handler is on.
    System.setProperty("searchapp.plugin", "true");
    Path solrXml = home.resolve("solr.xml");
    if (!Files.exists(solrXml)) {
      try (var in = ClusterNode.class.getResourceAsStream("/searchapp-solr.xml")) {
        Files.write(solrXml, in.readAllBytes());
      }
    }
    Properties nodeProps = new Properties();
    nodeProps.setProperty("zkHost", zkHost);
    nodeProps.setProperty("hostPort", Integer.toString(port));
    nodeProps.setProperty("hostContext", "solr");
    org.apache.solr.embedded.JettyConfig config =
        org.apache.solr.embedded.JettyConfig.builder()
            .setPort(port)
            .setContext("/solr")
            .stopAtShutdown(false)
            .build();
    org.apache.solr.embedded.JettySolrRunner jetty =
        new org.apache.solr.embedded.JettySolrRunner(home.toString(), nodeProps, config);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    jetty.stop();
                  } catch (Exception e) {
                    e.printStackTrace();
                  } finally {
                    stopped.countDown();
                  }
                },
                "solr-shutdown"));
    jetty.start();
    System.out.println("READY solr " + jetty.getBaseUrl() + " " + jetty.getNodeName());
    System.out.flush();
    stopped.await();
  }

  private static Map<String, String> parseOptions(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 1; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        usage("bad option " + args[i]);
      }
      options.put(args[i].substring(2), args[i + 1]);
    }
    return options;
  }

  private static String require(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null) {
      usage("missing --" + name);
    }
    return value;
  }

  private static void usage(String problem) {
    System.err.println(
        problem
            + "\nusage: ClusterNode zk --port PORT --dir DATA_DIR\n"
            + "       ClusterNode solr --port PORT --zk HOST:PORT --home SOLR_HOME");
    System.exit(2);
  }
}
