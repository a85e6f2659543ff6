/*
 * DynamoDB Local bound to 127.0.0.1 only. Its own launcher (ServerRunner) hands Jetty only a port,
 * so Jetty listens on every interface, and DynamoDB Local checks no signatures: anyone on the
 * network could read and change the tables. This builds the same server from the same
 * command-line options, then binds its connector to the loopback address before starting it.
 * Run in Java's source-file mode (JDK 11+), with DynamoDBLocal.jar on the class path:
 *   java -cp DynamoDBLocal.jar LoopbackDynamoDbLocal.java -port 8000 -sharedDb ...
 */
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    proxy.start();
    System.out.println("DynamoDB Local listening on 127.0.0.1 only");
  }
}
