package org.lwm2mbridge.interop;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.concurrent.*;

import org.eclipse.leshan.client.LeshanClient;
import org.eclipse.leshan.client.LeshanClientBuilder;
import org.eclipse.leshan.client.californium.endpoint.CaliforniumClientEndpointsProvider;
import org.eclipse.leshan.client.californium.endpoint.coap.CoapClientProtocolProvider;
import org.eclipse.leshan.client.californium.endpoint.coaps.CoapsClientProtocolProvider;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.leshan.client.engine.DefaultRegistrationEngineFactory;
import org.eclipse.leshan.client.object.Security;
import org.eclipse.leshan.client.object.Server;
import org.eclipse.leshan.client.observer.LwM2mClientObserverAdapter;
import org.eclipse.leshan.client.resource.*;
import org.eclipse.leshan.client.resource.listener.ObjectsListenerAdapter;
import org.eclipse.leshan.client.servers.LwM2mServer;
import org.eclipse.leshan.core.LwM2m.LwM2mVersion;
import org.eclipse.leshan.core.LwM2mId;
import org.eclipse.leshan.core.ResponseCode;
import org.eclipse.leshan.core.model.*;
import org.eclipse.leshan.core.node.*;
import org.eclipse.leshan.core.node.codec.*;
import org.eclipse.leshan.core.request.*;
import org.eclipse.leshan.core.request.argument.Arguments;
import org.eclipse.leshan.core.response.*;

/**
 * A real LwM2M client for the integration tests. Every protocol behaviour is Eclipse Leshan's
 * (leshan-client-cf 2.0.0-M15); this class only configures objects, takes commands on stdin and
 * reports events on stdout, one machine-readable line each. Logs go to stderr. See README.md.
 */
public final class LeshanTestClient {
    private static final int SERVER_SHORT_ID = 123;
    private static final int TEMPERATURE = 3303;
    private static final Map<String, ContentFormat> FORMATS = Map.of("tlv", ContentFormat.TLV, "json", ContentFormat.JSON,
            "senml-json", ContentFormat.SENML_JSON, "senml-cbor", ContentFormat.SENML_CBOR, "cbor", ContentFormat.CBOR,
            "text", ContentFormat.TEXT, "opaque", ContentFormat.OPAQUE, "link", ContentFormat.LINK);
    private static final Set<String> VALUED_ARGS = Set.of("server", "endpoint", "lifetime", "lwm2m-version", "formats",
            "send-format", "tick-ms", "psk-identity", "psk-key", "cid-length", "client-key", "client-cert",
            "client-public-key", "server-cert", "server-public-key");

    private static synchronized void emit(String line) {
        System.out.println(line.replaceAll("[\\r\\n]+", " "));
        System.out.flush();
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> opts = parseArgs(argv);
        if (!opts.getOrDefault("lwm2m-version", "1.1").equals("1.1")) {
            // DefaultRegistrationEngine (2.0.0-M15) always registers with LwM2mVersion.lastSupported(), i.e. 1.1;
            // see eclipse-leshan/leshan#1244. Refuse rather than pretend to be a 1.0 client.
            fail("--lwm2m-version " + opts.get("lwm2m-version") + " is unsupported: the Leshan 2.0 client only acts as LwM2M 1.1");
        }
        ContentFormat sendFormat = format(opts.getOrDefault("send-format", "senml-cbor"));
        DefaultRegistrationEngineFactory engine = new DefaultRegistrationEngineFactory();
        engine.setQueueMode(opts.containsKey("queue-mode"));
        LeshanClientBuilder builder = new LeshanClientBuilder(require(opts, "endpoint"))
                .setObjects(createObjects(opts))
                .setRegistrationEngineFactory(engine)
                .setEndpointsProviders(endpointsProvider(opts));
        if (opts.containsKey("formats")) restrictFormats(builder, opts.get("formats"));
        LeshanClient client = builder.build();
        client.addObserver(new LineReporter());
        client.getObjectTree().addListener(new ObjectsListenerAdapter() { // instances created/deleted by the server
            @Override public void objectInstancesAdded(LwM2mObjectEnabler o, int... ids) { report("CREATED", o, ids); }
            @Override public void objectInstancesRemoved(LwM2mObjectEnabler o, int... ids) { report("DELETED", o, ids); }
        });

        long tickMs = Long.parseLong(opts.getOrDefault("tick-ms", "1000"));
        Executors.newSingleThreadScheduledExecutor()
                .scheduleAtFixedRate(TemperatureSensor::tickAll, tickMs, tickMs, TimeUnit.MILLISECONDS);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            client.destroy(false); // also on SIGTERM: the device vanishes without deregistering
            emit("STOPPED");
        }));

        emit("READY"); // before start(), so that it precedes every registration line
        client.start();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] words = line.trim().split("\\s+");
            switch (words[0]) {
            case "" -> { }
            case "update" -> client.triggerRegistrationUpdate();
            case "send" -> send(client, sendFormat, Arrays.asList(words).subList(1, words.length));
            case "deregister" -> { client.stop(true); System.exit(0); } // stop(true) deregisters: DEREGISTERED
            case "quit" -> System.exit(0);
            default -> emit("ERROR unknown-command " + words[0]);
            }
        }
        System.exit(0); // stdin closed: the harness is gone
    }

    private static void report(String event, LwM2mObjectEnabler object, int... instanceIds) {
        for (int id : instanceIds) emit(event + " /" + object.getId() + "/" + id);
    }

    private static List<LwM2mObjectEnabler> createObjects(Map<String, String> opts) throws Exception {
        List<ObjectModel> models = new ArrayList<>(ObjectLoader.loadDefault(LwM2mVersion.V1_1));
        // 3303 is not among Leshan's built-in models: the OMA registry's DDF is bundled as a resource.
        models.addAll(ObjectLoader.loadDdfResources("/lwm2m-bridge-models/", new String[] { "3303.xml" }));
        ObjectsInitializer init = new ObjectsInitializer(new StaticModel(models));
        init.setInstancesForObject(LwM2mId.SECURITY, security(opts));
        init.setInstancesForObject(LwM2mId.SERVER, new Server(SERVER_SHORT_ID, Long.parseLong(opts.getOrDefault("lifetime", "300"))));
        init.setInstancesForObject(LwM2mId.DEVICE, new TestDevice());
        init.setInstancesForObject(LwM2mId.CONNECTIVITY_MONITORING, new SimpleInstanceEnabler(0, Map.of(
                0, 0L, 1, Map.of(0, 0L, 1, 21L), 2, -71L, 3, 42L, 4, Map.of(0, "127.0.0.1"), 8, 12345L)));
        init.setInstancesForObject(LwM2mId.LOCATION, new SimpleInstanceEnabler(0, Map.of(
                0, 48.8584, 1, 2.2945, 2, 35.0, 5, new Date())));
        init.setInstancesForObject(TEMPERATURE, new TemperatureSensor(0));
        init.setFactoryForObject(TEMPERATURE, new BaseInstanceEnablerFactory() {
            @Override
            public LwM2mInstanceEnabler create() {
                return new TemperatureSensor(null);
            }
        });
        return init.create(LwM2mId.SECURITY, LwM2mId.SERVER, LwM2mId.DEVICE, LwM2mId.CONNECTIVITY_MONITORING,
                LwM2mId.LOCATION, TEMPERATURE);
    }

    /**
     * NoSec; PSK (--psk-identity, --psk-key in hex); RPK (--client-key, --client-public-key,
     * --server-public-key); X.509 (--client-key, --client-cert, --server-cert). Keys and
     * certificates are PEM files (private keys in PKCS#8).
     */
    private static Security security(Map<String, String> opts) throws Exception {
        String server = require(opts, "server");
        if (opts.containsKey("psk-identity")) {
            return Security.psk(server, SERVER_SHORT_ID, require(opts, "psk-identity").getBytes(StandardCharsets.UTF_8),
                    HexFormat.of().parseHex(require(opts, "psk-key")));
        }
        if (opts.containsKey("client-public-key")) {
            return Security.rpk(server, SERVER_SHORT_ID, pemDer(opts.get("client-public-key")), pemDer(require(opts, "client-key")),
                    pemDer(require(opts, "server-public-key")));
        }
        if (opts.containsKey("client-cert")) {
            return Security.x509(server, SERVER_SHORT_ID, pemDer(opts.get("client-cert")), pemDer(require(opts, "client-key")),
                    pemDer(require(opts, "server-cert")));
        }
        return Security.noSec(server, SERVER_SHORT_ID);
    }

    /** The DER bytes of the first PEM block of a file. */
    private static byte[] pemDer(String path) throws Exception {
        String pem = java.nio.file.Files.readString(java.nio.file.Path.of(path));
        int begin = pem.indexOf("-----BEGIN");
        int bodyStart = pem.indexOf('\n', begin) + 1;
        int end = pem.indexOf("-----END", bodyStart);
        return Base64.getMimeDecoder().decode(pem.substring(bodyStart, end));
    }

    /** CoAP and CoAPS (Californium/Scandium); --cid-length N makes the client use DTLS connection IDs (RFC 9146). */
    private static CaliforniumClientEndpointsProvider endpointsProvider(Map<String, String> opts) {
        CaliforniumClientEndpointsProvider.Builder b = new CaliforniumClientEndpointsProvider.Builder(
                new CoapClientProtocolProvider(), new CoapsClientProtocolProvider());
        Configuration cfg = b.createDefaultConfiguration();
        if (opts.containsKey("cid-length")) cfg.set(DtlsConfig.DTLS_CONNECTION_ID_LENGTH, Integer.parseInt(opts.get("cid-length")));
        b.setConfiguration(cfg);
        return b.build();
    }

    /** Keeps only the listed content formats in Leshan's default codecs (and so in the Register ct= list). */
    private static void restrictFormats(LeshanClientBuilder builder, String list) {
        Set<ContentFormat> formats = new HashSet<>();
        for (String name : list.split(",")) formats.add(format(name.trim()));
        Map<ContentFormat, NodeEncoder> ne = new HashMap<>(DefaultLwM2mEncoder.getDefaultNodeEncoders(false));
        Map<ContentFormat, PathEncoder> pe = new HashMap<>(DefaultLwM2mEncoder.getDefaultPathEncoder());
        Map<ContentFormat, NodeDecoder> nd = new HashMap<>(DefaultLwM2mDecoder.getDefaultNodeDecoders(false));
        Map<ContentFormat, PathDecoder> pd = new HashMap<>(DefaultLwM2mDecoder.getDefaultPathDecoder());
        for (Map<ContentFormat, ?> m : List.of(ne, pe, nd, pd)) m.keySet().retainAll(formats);
        builder.setEncoder(new DefaultLwM2mEncoder(ne, pe, new LwM2mValueChecker()));
        builder.setDecoder(new DefaultLwM2mDecoder(nd, pd));
    }

    private static void send(LeshanClient client, ContentFormat format, List<String> paths) {
        Iterator<LwM2mServer> servers = client.getRegisteredServers().values().iterator();
        if (paths.isEmpty() || !servers.hasNext()) {
            emit("SENT error " + (paths.isEmpty() ? "no-paths" : "not-registered"));
            return;
        }
        client.getSendService().sendData(servers.next(), format, paths, 10_000,
                response -> emit(response.isSuccess() ? "SENT ok" : "SENT error " + response.getCode()),
                error -> emit("SENT error " + error));
    }

    /** Turns Leshan's registration-engine events into stdout lines. */
    private static final class LineReporter extends LwM2mClientObserverAdapter {
        private static String reason(ResponseCode code, String message, Exception e) {
            return (code != null ? code.toString() : "no-response") + " " + (e != null ? e : message);
        }

        @Override public void onRegistrationStarted(LwM2mServer s, RegisterRequest r) { emit("REGISTERING " + s.getUri()); }
        @Override public void onRegistrationSuccess(LwM2mServer s, RegisterRequest r, String id) { emit("REGISTERED " + id); }
        @Override public void onRegistrationTimeout(LwM2mServer s, RegisterRequest r) { emit("REGISTRATION_FAILED timeout"); }
        @Override public void onRegistrationFailure(LwM2mServer s, RegisterRequest r, ResponseCode c, String m, Exception e) {
            emit("REGISTRATION_FAILED " + reason(c, m, e));
        }
        @Override public void onUpdateSuccess(LwM2mServer s, UpdateRequest r) { emit("UPDATED"); }
        @Override public void onUpdateTimeout(LwM2mServer s, UpdateRequest r) { emit("UPDATE_FAILED timeout"); }
        @Override public void onUpdateFailure(LwM2mServer s, UpdateRequest r, ResponseCode c, String m, Exception e) {
            emit("UPDATE_FAILED " + reason(c, m, e));
        }
        @Override public void onDeregistrationSuccess(LwM2mServer s, DeregisterRequest r) { emit("DEREGISTERED"); }
        @Override public void onDeregistrationTimeout(LwM2mServer s, DeregisterRequest r) { emit("DEREGISTRATION_FAILED timeout"); }
        @Override public void onDeregistrationFailure(LwM2mServer s, DeregisterRequest r, ResponseCode c, String m, Exception e) {
            emit("DEREGISTRATION_FAILED " + reason(c, m, e));
        }
        @Override public void onUnexpectedError(Throwable t) { emit("ERROR " + t); }
    }

    /** Leshan's generic resource storage, reporting successful Writes and Executes on stdout. */
    private static class ReportingInstance extends SimpleInstanceEnabler {
        ReportingInstance(Integer id, Map<Integer, Object> values) {
            if (id != null) setId(id); // else the factory assigns it
            initialValues = new HashMap<>(values);
        }

        @Override
        public synchronized WriteResponse write(LwM2mServer server, boolean replace, int id, LwM2mResource value) {
            WriteResponse response = super.write(server, replace, id, value);
            if (response.isSuccess()) emit("WRITTEN " + getResourcePath(id) + " " + value.getValue());
            return response;
        }

        @Override
        public synchronized ExecuteResponse execute(LwM2mServer server, int id, Arguments args) {
            ResourceModel resource = getModel().resources.get(id);
            if (resource == null || !resource.operations.isExecutable()) return super.execute(server, id, args);
            emit("EXECUTED " + getResourcePath(id) + (args.isEmpty() ? "" : " " + args.serialize()));
            return ExecuteResponse.success();
        }
    }

    /** Device (3/0) with realistic values; Reboot (4), Factory Reset (5), Reset Error Code (12) only print EXECUTED. */
    public static final class TestDevice extends ReportingInstance {
        private volatile long clockOffsetMs = 0;

        public TestDevice() {
            super(0, Map.ofEntries(Map.entry(0, "Leshan Test Devices"), Map.entry(1, "lwm2m-bridge-test-client"),
                    Map.entry(2, "LT-000123"), Map.entry(3, "leshan-2.0.0-M15"), Map.entry(6, Map.of(0, 1L, 1, 5L)),
                    Map.entry(7, Map.of(0, 3800L, 1, 5000L)), Map.entry(8, Map.of(0, 125L, 1, 900L)), Map.entry(9, 87L),
                    Map.entry(10, 15_000L), Map.entry(11, Map.of(0, 0L, 1, 3L)), Map.entry(13, new Date()),
                    Map.entry(14, "+01:00"), Map.entry(15, "Europe/Paris"), Map.entry(16, "U"), Map.entry(17, "thermometer"),
                    Map.entry(18, "hw-1.2"), Map.entry(19, "sw-3.4.5"), Map.entry(20, 0L), Map.entry(21, 32_768L)));
        }

        @Override
        public ReadResponse read(LwM2mServer server, int id) {
            if (id != 13) return super.read(server, id);
            return ReadResponse.success(id, new Date(System.currentTimeMillis() + clockOffsetMs)); // a running clock
        }

        @Override
        public synchronized WriteResponse write(LwM2mServer server, boolean replace, int id, LwM2mResource value) {
            WriteResponse response = super.write(server, replace, id, value);
            if (id == 13 && response.isSuccess()) clockOffsetMs = ((Date) value.getValue()).getTime() - System.currentTimeMillis();
            return response;
        }
    }

    /** IPSO Temperature (3303) whose Sensor Value changes on every tick, so observations produce notifications. */
    private static final class TemperatureSensor extends ReportingInstance {
        private static final Set<TemperatureSensor> LIVE = ConcurrentHashMap.newKeySet();
        private static long ticks = 0;

        TemperatureSensor(Integer id) {
            super(id, Map.of(5700, 20.0, 5601, 20.0, 5602, 20.0, 5603, -40.0, 5604, 85.0, 5701, "Cel", 5750, "indoor"));
        }

        static synchronized void tickAll() {
            double value = 20.0 + (++ticks % 20) * 0.25;
            LIVE.forEach(sensor -> sensor.update(value));
        }

        private synchronized void update(double value) {
            List<LwM2mPath> changed = new ArrayList<>(List.of(set(5700, value)));
            if (value < (double) resources.get(5601).getValue()) changed.add(set(5601, value));
            if (value > (double) resources.get(5602).getValue()) changed.add(set(5602, value));
            fireResourcesChange(changed.toArray(new LwM2mPath[0]));
        }

        private LwM2mPath set(int id, double value) {
            resources.put(id, LwM2mSingleResource.newFloatResource(id, value));
            return getResourcePath(id);
        }

        @Override
        public void setModel(ObjectModel model) {
            super.setModel(model);
            LIVE.add(this);
        }

        @Override
        public synchronized ExecuteResponse execute(LwM2mServer server, int id, Arguments args) {
            if (id == 5605) { // Reset Min and Max Measured Values
                double current = (double) resources.get(5700).getValue();
                fireResourcesChange(set(5601, current), set(5602, current));
            }
            return super.execute(server, id, args);
        }

        @Override
        public void onDelete(LwM2mServer server) {
            LIVE.remove(this);
        }
    }

    private static ContentFormat format(String name) {
        ContentFormat format = FORMATS.get(name.toLowerCase(Locale.ROOT));
        return format != null ? format : fail("unknown content format '" + name + "', expected one of " + FORMATS.keySet());
    }

    private static Map<String, String> parseArgs(String[] argv) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i < argv.length; i++) {
            String name = argv[i].startsWith("--") ? argv[i].substring(2) : "";
            if (name.equals("queue-mode")) opts.put(name, "true");
            else if (VALUED_ARGS.contains(name) && i + 1 < argv.length) opts.put(name, argv[++i]);
            else fail("bad argument '" + argv[i] + "'");
        }
        return opts;
    }

    private static String require(Map<String, String> opts, String name) {
        String value = opts.get(name);
        return value != null ? value : fail("--" + name + " is required");
    }

    private static <T> T fail(String message) {
        System.err.println("leshan-test-client: " + message);
        System.err.println("usage: --server coap://HOST:PORT --endpoint NAME [--lifetime S] [--lwm2m-version 1.1] [--queue-mode]"
                + " [--formats f1,f2,...] [--send-format senml-cbor|senml-json] [--tick-ms MS]");
        System.exit(2);
        return null;
    }
}
