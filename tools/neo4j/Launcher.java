// Starts a real Neo4j Community server (5.26 LTS, via the official test harness) on 127.0.0.1:<port>
// with its data in <dir>, prints "READY <bolt uri>" and runs until its standard input closes.
// With a third argument the server opens that data directory (e.g. one written by neo4j-admin import).
// The page cache is 256 MiB unless CIB_NEO4J_PAGECACHE_MB says otherwise (benchmarks use the 1 GiB of docker-compose.yml).
// Usage: java -cp 'lib/*' Launcher.java <port> <dir> [<data dir>]
import java.io.InputStream;
import java.nio.file.Path;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilders;

public class Launcher {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Path dir = Path.of(args[1]);
        var builder = Neo4jBuilders.newInProcessBuilder(dir);
        String pagecacheMb = System.getenv().getOrDefault("CIB_NEO4J_PAGECACHE_MB", "256");
        if (args.length > 2) {
            builder = builder.withConfig(GraphDatabaseSettings.data_directory, Path.of(args[2]).toAbsolutePath());
        }
        Neo4j neo4j = builder
            .withDisabledServer()
            .withConfig(BoltConnector.enabled, true)
            .withConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .withConfig(HttpConnector.enabled, false)
            .withConfig(HttpsConnector.enabled, false)
            .withConfig(GraphDatabaseSettings.pagecache_memory, Long.parseLong(pagecacheMb) * 1024 * 1024)
            .build();
        Runtime.getRuntime().addShutdownHook(new Thread(neo4j::close));
        System.out.println("READY " + neo4j.boltURI());
        System.out.flush();
        InputStream in = System.in;
        while (in.read() != -1) { /* wait for the parent to close stdin */ }
        neo4j.close();
        System.exit(0);
    }
}
