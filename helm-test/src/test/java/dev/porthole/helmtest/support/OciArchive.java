package dev.porthole.helmtest.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

/**
 * An image as {@code scripts/build-images.sh} writes it: an OCI image layout in one tar, whose index.json names
 * one manifest. Reads the index, the manifest, the config and the files of the layers without a container runtime.
 */
public final class OciArchive {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code <ref> <tar file> <manifest digest>} lines of {@code $CACHE/images/images.txt}. */
    public record Built(String ref, Path tar, String digest) {
    }

    /** An entry of a layer: its path without a leading "./" or "/", its tar type, its bytes if asked for. */
    public record LayerEntry(String path, char type, String link, byte[] data) {
    }

    private final Map<String, byte[]> files;
    private final JsonNode index;
    private final JsonNode manifest;
    private final JsonNode config;

    private OciArchive(Map<String, byte[]> files) {
        this.files = files;
        this.index = json("index.json");
        this.manifest = blob(index.path("manifests").path(0).path("digest").asText());
        this.config = blob(manifest.path("config").path("digest").asText());
    }

    /** The images built on this machine, by ref; an AssertionError telling how to build them if there are none. */
    public static Map<String, Built> built() {
        String cache = System.getenv().getOrDefault("PORTHOLE_CACHE", System.getProperty("user.home") + "/.cache/porthole");
        Path list = Path.of(cache, "images", "images.txt");
        if (!Files.isRegularFile(list)) {
            throw new AssertionError("no " + list + ": build the images with `bash scripts/build-images.sh` (as root)"
                    + " after `mvn -B package -DskipTests -pl tunnel-sidecar,operator -am`");
        }
        Map<String, Built> built = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(list)) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 3) {
                    built.put(f[0], new Built(f[0], Path.of(f[1]), f[2]));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return built;
    }

    /** The image {@code ref} of {@link #built()}; an AssertionError naming the script if it is missing. */
    public static OciArchive of(String ref) {
        Built image = built().get(ref);
        if (image == null || !Files.isRegularFile(image.tar())) {
            throw new AssertionError("image " + ref + " not built: run `bash scripts/build-images.sh` (as root)");
        }
        try (InputStream in = Files.newInputStream(image.tar())) {
            Map<String, byte[]> files = new HashMap<>();
            for (LayerEntry e : entries(in, path -> true)) {
                if (e.type() == '0') {
                    files.put(e.path(), e.data());
                }
            }
            return new OciArchive(files);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public JsonNode index() {
        return index;
    }

    public JsonNode manifest() {
        return manifest;
    }

    /** The image config (its {@code config} member holds User, Entrypoint, Env, ...). */
    public JsonNode config() {
        return config;
    }

    public String manifestDigest() {
        return index.path("manifests").path(0).path("digest").asText();
    }

    public List<String> entrypoint() {
        List<String> args = new ArrayList<>();
        config.path("config").path("Entrypoint").forEach(a -> args.add(a.asText()));
        return args;
    }

    /** Every entry of every layer, with the bytes of those whose path {@code withData} accepts. */
    public List<LayerEntry> layerEntries(Predicate<String> withData) {
        List<LayerEntry> all = new ArrayList<>();
        for (JsonNode layer : manifest.path("layers")) {
            byte[] blob = files.get(blobPath(layer.path("digest").asText()));
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(blob))) {
                all.addAll(entries(in, withData));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return all;
    }

    private JsonNode json(String path) {
        byte[] data = files.get(path);
        if (data == null) {
            throw new AssertionError("no " + path + " in the image archive");
        }
        try {
            return JSON.readTree(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private JsonNode blob(String digest) {
        return json(blobPath(digest));
    }

    private static String blobPath(String digest) {
        return "blobs/" + digest.replace(':', '/');
    }

    /** A tar stream's entries (ustar, GNU long names, PAX path/size/linkpath); data only where asked for. */
    static List<LayerEntry> entries(InputStream in, Predicate<String> withData) throws IOException {
        List<LayerEntry> entries = new ArrayList<>();
        String longName = null;
        String longLink = null;
        Map<String, String> pax = Map.of();
        byte[] header = new byte[512];
        while (in.readNBytes(header, 0, 512) == 512) {
            if (allZero(header)) {
                break;
            }
            String name = string(header, 0, 100);
            String magic = string(header, 257, 6);
            String prefix = "ustar".equals(magic) ? string(header, 345, 155) : "";
            if (!prefix.isEmpty()) {
                name = prefix + "/" + name;
            }
            long size = number(header, 124, 12);
            char type = header[156] == 0 ? '0' : (char) header[156];
            String link = string(header, 157, 100);
            if (longName != null) {
                name = longName;
            }
            if (longLink != null) {
                link = longLink;
            }
            name = pax.getOrDefault("path", name);
            link = pax.getOrDefault("linkpath", link);
            size = pax.containsKey("size") ? Long.parseLong(pax.get("size")) : size;
            boolean meta = type == 'L' || type == 'K' || type == 'x' || type == 'g';
            String path = name.replaceFirst("^\\./", "").replaceFirst("^/+", "").replaceFirst("/$", "");
            byte[] data = null;
            if (meta || (type == '0' || type == '7') && withData.test(path)) {
                data = in.readNBytes((int) size);
            } else {
                in.skipNBytes(size);
            }
            in.skipNBytes((512 - size % 512) % 512);
            switch (type) {
                case 'L' -> longName = string(data, 0, data.length);
                case 'K' -> longLink = string(data, 0, data.length);
                case 'x' -> pax = paxRecords(data);
                case 'g' -> { }
                default -> {
                    entries.add(new LayerEntry(path, type == '7' ? '0' : type, link, data));
                    longName = null;
                    longLink = null;
                    pax = Map.of();
                }
            }
        }
        return entries;
    }

    private static Map<String, String> paxRecords(byte[] data) {
        Map<String, String> records = new HashMap<>();
        int at = 0;
        while (at < data.length) {
            int space = at;
            while (data[space] != ' ') {
                space++;
            }
            int length = Integer.parseInt(new String(data, at, space - at, StandardCharsets.US_ASCII));
            String record = new String(data, space + 1, length - (space + 1 - at) - 1, StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            records.put(record.substring(0, eq), record.substring(eq + 1));
            at += length;
        }
        return records;
    }

    private static boolean allZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static String string(byte[] b, int offset, int length) {
        int end = offset;
        while (end < offset + length && b[end] != 0) {
            end++;
        }
        return new String(b, offset, end - offset, StandardCharsets.UTF_8);
    }

    private static long number(byte[] b, int offset, int length) {
        if ((b[offset] & 0x80) != 0) { // base-256
            long value = b[offset] & 0x7f;
            for (int i = offset + 1; i < offset + length; i++) {
                value = (value << 8) | (b[i] & 0xff);
            }
            return value;
        }
        String octal = string(b, offset, length).trim();
        return octal.isEmpty() ? 0 : Long.parseLong(octal, 8);
    }
}
