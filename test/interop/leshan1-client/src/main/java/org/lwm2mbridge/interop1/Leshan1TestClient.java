package org.lwm2mbridge.interop1;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.concurrent.*;

import org.eclipse.leshan.client.californium.LeshanClient;
import org.eclipse.leshan.client.californium.LeshanClientBuilder;
import org.eclipse.leshan.client.engine.DefaultRegistrationEngineFactory;
import org.eclipse.leshan.client.object.Security;
import org.eclipse.leshan.client.object.Server;
import org.eclipse.leshan.client.observer.LwM2mClientObserverAdapter;
import org.eclipse.leshan.client.resource.*;
import org.eclipse.leshan.client.resource.listener.ObjectsListenerAdapter;
import org.eclipse.leshan.client.servers.ServerIdentity;
import org.eclipse.leshan.core.LwM2mId;
import org.eclipse.leshan.core.ResponseCode;
import org.eclipse.leshan.core.model.*;
import org.eclipse.leshan.core.node.*;
import org.eclipse.leshan.core.node.codec.*;
import org.eclipse.leshan.core.request.*;
import org.eclipse.leshan.core.response.*;

/**
 * A real LwM2M 1.0 client for the integration tests. Every protocol behaviour is Eclipse Leshan's
 * (leshan-client-cf 1.5.0, Californium/Scandium 2.8); this class only configures objects, takes
 * commands on stdin and reports events on stdout, one machine-readable line each, in the same line
 * protocol as the 2.x launcher (test/interop/leshan-client). Logs go to stderr. See README.md.
 */
public final class Leshan1TestClient {
    private static final int SERVER_SHORT_ID = 123;
    private static final int TEMPERATURE = 3303;
    /** The formats of LwM2M 1.0 (OMA-TS-LightweightM2M-V1_0 §6.4), with the pre-registration codes Leshan 1.x also reads. */
    private static final Map<String, List<ContentFormat>> FORMATS = Map.of(
            "tlv", List.of(ContentFormat.TLV, ContentFormat.fromCode(ContentFormat.OLD_TLV_CODE)),
            "json", List.of(ContentFormat.JSON, ContentFormat.fromCode(ContentFormat.OLD_JSON_CODE)),
            "text", List.of(ContentFormat.TEXT), "opaque", List.of(ContentFormat.OPAQUE), "link", List.of(ContentFormat.LINK));
    private static final Set<String> VALUED_ARGS = Set.of("server", "endpoint", "lifetime", "lwm2m-version", "formats",
            "tick-ms", "psk-identity", "psk-key");

    private static synchronized void emit(String line) {
        System.out.println(line.replaceAll("[\\r\\n]+", " "));
        System.out.flush();
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> opts = parseArgs(argv);
        if (!opts.getOrDefault("lwm2m-version", "1.0").equals("1.0")) {
            // DefaultRegistrationEngine (1.5.0) always registers with lwm2m=1.0; 1.1 is the 2.x launcher's job.
            fail("--lwm2m-version " + opts.get("lwm2m-version") + " is unsupported: the Leshan 1.x client only acts as LwM2M 1.0");
        }
        Set<ContentFormat> formats = formats(opts.get("formats"));
        LeshanClientBuilder builder = new LeshanClientBuilder(require(opts, "endpoint"))
                .setObjects(createObjects(opts))
                .setRegistrationEngineFactory(new DefaultRegistrationEngineFactory())
                .setEncoder(new RestrictedEncoder(new DefaultLwM2mNodeEncoder(), formats))
                .setDecoder(new RestrictedDecoder(new DefaultLwM2mNodeDecoder(), formats));
        LeshanClient client = builder.build();
        client.addObserver(new LineReporter());
        client.getObjectTree().addListener(new ObjectsListenerAdapter() { // instances created/deleted by the server
            @Override public void objectInstancesAdded(LwM2mObjectEnabler o, int... ids) { report("CREATED", o, ids); }
            @Override public void objectInstancesRemoved(LwM2mObjectEnabler o, int... ids) { report("DELETED", o, ids); }
        });

        long tickMs = Long.parseLong(opts.getOrDefault("tick-ms", "1000"));
        Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sensor-tick");
            t.setDaemon(true);
            return t;
        }).scheduleAtFixedRate(TemperatureSensor::tickAll, tickMs, tickMs, TimeUnit.MILLISECONDS);
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
            case "send" -> emit("SENT error unsupported: LwM2M 1.0 has no Send operation");
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

    private static List<LwM2mObjectEnabler> createObjects(Map<String, String> opts) {
        List<ObjectModel> models = new ArrayList<>(ObjectLoader.loadDefault());
        // 3303 is not among Leshan's built-in models: the OMA registry's DDF is bundled as a resource.
        models.addAll(ObjectLoader.loadDdfResources("/lwm2m-bridge-models/", new String[] { "3303.xml" }));
        ObjectsInitializer init = new ObjectsInitializer(new StaticModel(models));
        init.setInstancesForObject(LwM2mId.SECURITY, security(opts));
        // LwM2M 1.0 §5.3.1: queue mode is the binding "UQ", not a separate parameter.
        BindingMode binding = opts.containsKey("queue-mode") ? BindingMode.UQ : BindingMode.U;
        init.setInstancesForObject(LwM2mId.SERVER,
                new Server(SERVER_SHORT_ID, Long.parseLong(opts.getOrDefault("lifetime", "300")), binding, false));
        init.setInstancesForObject(LwM2mId.DEVICE, new TestDevice(binding));
        // Leshan 1.x wants a factory for every object, even one whose only instance is given above.
        init.setFactoryForObject(LwM2mId.DEVICE, new BaseInstanceEnablerFactory() {
            @Override
            public LwM2mInstanceEnabler create() {
                return new TestDevice(binding);
            }
        });
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

    /** NoSec, or PSK (--psk-identity, --psk-key in hex); Leshan 1.x configures Scandium from this Security instance. */
    private static Security security(Map<String, String> opts) {
        String server = require(opts, "server");
        if (opts.containsKey("psk-identity")) {
            return Security.psk(server, SERVER_SHORT_ID, require(opts, "psk-identity").getBytes(StandardCharsets.UTF_8),
                    HexFormat.of().parseHex(require(opts, "psk-key")));
        }
        return Security.noSec(server, SERVER_SHORT_ID);
    }

    /** The formats named by --formats (default: every 1.0 format Leshan 1.x knows). */
    private static Set<ContentFormat> formats(String list) {
        Set<ContentFormat> formats = new HashSet<>();
        Collection<String> names = list != null ? Arrays.asList(list.split(",")) : FORMATS.keySet();
        for (String name : names) {
            List<ContentFormat> codes = FORMATS.get(name.trim().toLowerCase(Locale.ROOT));
            if (codes == null) fail("unknown content format '" + name + "', expected one of " + new TreeSet<>(FORMATS.keySet()));
            formats.addAll(codes);
        }
        return formats;
    }

    /** Leshan 1.x's encoder, answering only in the allowed formats (a Read asking for another one gets 4.06). */
    private static final class RestrictedEncoder implements LwM2mNodeEncoder {
        private final LwM2mNodeEncoder delegate;
        private final Set<ContentFormat> allowed;

        RestrictedEncoder(LwM2mNodeEncoder delegate, Set<ContentFormat> allowed) {
            this.delegate = delegate;
            this.allowed = allowed;
        }

        @Override
        public byte[] encode(LwM2mNode node, ContentFormat format, LwM2mPath path, LwM2mModel model) throws CodecException {
            if (!allowed.contains(format)) throw new CodecException("content format %s is disabled by --formats", format);
            return delegate.encode(node, format, path, model);
        }

        @Override
        public byte[] encodeTimestampedData(List<TimestampedLwM2mNode> nodes, ContentFormat format, LwM2mPath path,
                LwM2mModel model) throws CodecException {
            if (!allowed.contains(format)) throw new CodecException("content format %s is disabled by --formats", format);
            return delegate.encodeTimestampedData(nodes, format, path, model);
        }

        @Override
        public boolean isSupported(ContentFormat format) {
            return allowed.contains(format) && delegate.isSupported(format);
        }
    }

    /** Leshan 1.x's decoder, accepting only the allowed formats (a Write in another one gets 4.15). */
    private static final class RestrictedDecoder implements LwM2mNodeDecoder {
        private final LwM2mNodeDecoder delegate;
        private final Set<ContentFormat> allowed;

        RestrictedDecoder(LwM2mNodeDecoder delegate, Set<ContentFormat> allowed) {
            this.delegate = delegate;
            this.allowed = allowed;
        }

        private void check(ContentFormat format) throws CodecException {
            if (!allowed.contains(format)) throw new CodecException("content format %s is disabled by --formats", format);
        }

        @Override
        public LwM2mNode decode(byte[] content, ContentFormat format, LwM2mPath path, LwM2mModel model) throws CodecException {
            check(format);
            return delegate.decode(content, format, path, model);
        }

        @Override
        public <T extends LwM2mNode> T decode(byte[] content, ContentFormat format, LwM2mPath path, LwM2mModel model,
                Class<T> nodeClass) throws CodecException {
            check(format);
            return delegate.decode(content, format, path, model, nodeClass);
        }

        @Override
        public List<TimestampedLwM2mNode> decodeTimestampedData(byte[] content, ContentFormat format, LwM2mPath path,
                LwM2mModel model) throws CodecException {
            check(format);
            return delegate.decodeTimestampedData(content, format, path, model);
        }

        @Override
        public boolean isSupported(ContentFormat format) {
            return allowed.contains(format) && delegate.isSupported(format);
        }
    }

    /** Turns Leshan's registration-engine events into stdout lines. */
    private static final class LineReporter extends LwM2mClientObserverAdapter {
        private static String reason(ResponseCode code, String message, Exception e) {
            return (code != null ? code.toString() : "no-response") + " " + (e != null ? e : message);
        }

        @Override public void onRegistrationStarted(ServerIdentity s, RegisterRequest r) { emit("REGISTERING " + s.getUri()); }
        @Override public void onRegistrationSuccess(ServerIdentity s, RegisterRequest r, String id) { emit("REGISTERED " + id); }
        @Override public void onRegistrationTimeout(ServerIdentity s, RegisterRequest r) { emit("REGISTRATION_FAILED timeout"); }
        @Override public void onRegistrationFailure(ServerIdentity s, RegisterRequest r, ResponseCode c, String m, Exception e) {
            emit("REGISTRATION_FAILED " + reason(c, m, e));
        }
        @Override public void onUpdateSuccess(ServerIdentity s, UpdateRequest r) { emit("UPDATED"); }
        @Override public void onUpdateTimeout(ServerIdentity s, UpdateRequest r) { emit("UPDATE_FAILED timeout"); }
        @Override public void onUpdateFailure(ServerIdentity s, UpdateRequest r, ResponseCode c, String m, Exception e) {
            emit("UPDATE_FAILED " + reason(c, m, e));
        }
        @Override public void onDeregistrationSuccess(ServerIdentity s, DeregisterRequest r) { emit("DEREGISTERED"); }
        @Override public void onDeregistrationTimeout(ServerIdentity s, DeregisterRequest r) { emit("DEREGISTRATION_FAILED timeout"); }
        @Override public void onDeregistrationFailure(ServerIdentity s, DeregisterRequest r, ResponseCode c, String m, Exception e) {
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

        String pathOf(int resourceId) {
            return "/" + getModel().id + "/" + getId() + "/" + resourceId;
        }

        @Override
        public synchronized WriteResponse write(ServerIdentity server, int id, LwM2mResource value) {
            WriteResponse response = super.write(server, id, value);
            if (response.isSuccess()) emit("WRITTEN " + pathOf(id) + " " + value.getValue());
            return response;
        }

        @Override
        public synchronized ExecuteResponse execute(ServerIdentity server, int id, String params) {
            ResourceModel resource = getModel().resources.get(id);
            if (resource == null || !resource.operations.isExecutable()) return super.execute(server, id, params);
            emit("EXECUTED " + pathOf(id) + (params == null || params.isEmpty() ? "" : " " + params));
            return ExecuteResponse.success();
        }
    }

    /** Device (3/0, object version 1.0) with realistic values; Reboot (4), Factory Reset (5), Reset Error Code (12) only print EXECUTED. */
    private static final class TestDevice extends ReportingInstance {
        private volatile long clockOffsetMs = 0;

        TestDevice(BindingMode binding) {
            super(0, Map.ofEntries(Map.entry(0, "Leshan Test Devices"), Map.entry(1, "lwm2m-bridge-test-client-1.0"),
                    Map.entry(2, "LT-000100"), Map.entry(3, "leshan-1.5.0"), Map.entry(6, Map.of(0, 1L, 1, 5L)),
                    Map.entry(7, Map.of(0, 3800L, 1, 5000L)), Map.entry(8, Map.of(0, 125L, 1, 900L)), Map.entry(9, 87L),
                    Map.entry(10, 15_000L), Map.entry(11, Map.of(0, 0L, 1, 3L)), Map.entry(13, new Date()),
                    Map.entry(14, "+01:00"), Map.entry(15, "Europe/Paris"), Map.entry(16, binding.name())));
        }

        @Override
        public ReadResponse read(ServerIdentity server, int id) {
            if (id != 13) return super.read(server, id);
            return ReadResponse.success(id, new Date(System.currentTimeMillis() + clockOffsetMs)); // a running clock
        }

        @Override
        public synchronized WriteResponse write(ServerIdentity server, int id, LwM2mResource value) {
            WriteResponse response = super.write(server, id, value);
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
            List<Integer> changed = new ArrayList<>(List.of(set(5700, value)));
            if (value < (double) resources.get(5601).getValue()) changed.add(set(5601, value));
            if (value > (double) resources.get(5602).getValue()) changed.add(set(5602, value));
            fireResourcesChange(changed.stream().mapToInt(Integer::intValue).toArray());
        }

        private int set(int id, double value) {
            resources.put(id, LwM2mSingleResource.newFloatResource(id, value));
            return id;
        }

        @Override
        public void setModel(ObjectModel model) {
            super.setModel(model);
            LIVE.add(this);
        }

        @Override
        public synchronized ExecuteResponse execute(ServerIdentity server, int id, String params) {
            if (id == 5605) { // Reset Min and Max Measured Values
                double current = (double) resources.get(5700).getValue();
                fireResourcesChange(set(5601, current), set(5602, current));
            }
            return super.execute(server, id, params);
        }

        @Override
        public void onDelete(ServerIdentity server) {
            LIVE.remove(this);
        }
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
        System.err.println("leshan1-test-client: " + message);
        System.err.println("usage: --server coap[s]://HOST:PORT --endpoint NAME [--lifetime S] [--lwm2m-version 1.0] [--queue-mode]"
                + " [--formats tlv,json,text,opaque,link] [--tick-ms MS] [--psk-identity ID --psk-key HEX]");
        System.exit(2);
        return null;
    }
}
