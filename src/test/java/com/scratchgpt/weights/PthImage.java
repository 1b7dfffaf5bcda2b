package com.scratchgpt.weights;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import com.scratchgpt.Fixtures;

/**
 * A .pth file taken apart for tests that need broken or unusual ones: its members (name to bytes, in
 * archive order), written back as torch.save lays them out: stored, local headers with zero sizes and a
 * data descriptor, data padded to 64 bytes with an "FB" extra field, sizes and CRC-32s in the central
 * directory. Optionally in zip64 form; members may be zeros left unwritten (a sparse file), which makes
 * GPT-2-sized checkpoints, or places the members that follow beyond 4 GB, without the disk space.
 */
final class PthImage {

    /** Members in archive order; a value of null is a member of zeros whose size {@link #sparse} holds. */
    final Map<String, byte[]> members = new LinkedHashMap<>();
    /** The sizes of the members that are zeros, never written. */
    final Map<String, Long> sparse = new HashMap<>();
    /** CRC-32s to write instead of the true ones: a corrupt member, or one too large to bother (never read). */
    final Map<String, Integer> crcs = new HashMap<>();
    boolean zip64;

    /** Reads a well-formed .pth (a fixture) with java.util.zip. */
    static PthImage read(Path file) {
        PthImage image = new PthImage();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                image.members.put(e.getName(), zip.getInputStream(e).readAllBytes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return image;
    }

    /** A file of a fixture folder. */
    static Path fixture(String folder, String file) {
        return Fixtures.of("tiny-hf").dir().resolveSibling(folder).resolve(file);
    }

    /** The archive folder of the members (torch names it after the file). */
    String prefix() {
        String first = members.keySet().iterator().next();
        return first.substring(0, first.indexOf('/'));
    }

    byte[] pickle() {
        return members.get(prefix() + "/data.pkl");
    }

    PthImage withPickle(byte[] pickle) {
        members.put(prefix() + "/data.pkl", pickle);
        return this;
    }

    /** Adds a member of size zeros, left unwritten. */
    PthImage withZeros(String name, long size) {
        members.put(name, null);
        sparse.put(name, size);
        return this;
    }

    /** The same members under another archive folder, e.g. "archive". */
    PthImage renamed(String prefix) {
        PthImage image = new PthImage();
        String old = prefix();
        members.forEach((name, bytes) -> image.members.put(prefix + name.substring(old.length()), bytes));
        crcs.forEach((name, crc) -> image.crcs.put(prefix + name.substring(old.length()), crc));
        sparse.forEach((name, size) -> image.sparse.put(prefix + name.substring(old.length()), size));
        image.zip64 = zip64;
        return image;
    }

    /** Writes the archive: in one write when every member is in memory, else with the zeros left as holes. */
    Path write(Path file) {
        List<Chunk> chunks = new ArrayList<>();
        long length = layOut(chunks);
        try {
            if (sparse.isEmpty()) {
                ByteBuffer whole = ByteBuffer.allocate(Math.toIntExact(length));
                chunks.forEach(c -> whole.put(Math.toIntExact(c.position()), c.bytes()));
                return Files.write(file, whole.array());
            }
            try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
                out.setLength(0);
                for (Chunk c : chunks) {
                    out.seek(c.position());
                    out.write(c.bytes());
                }
                out.setLength(length);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bytes to write at a position of the file. */
    private record Chunk(long position, byte[] bytes) {
    }

    /** The archive's bytes as chunks at their positions; returns the file's length. */
    private long layOut(List<Chunk> out) {
        int directoryBytes = members.keySet().stream().mapToInt(n -> 46 + 28 + n.getBytes(StandardCharsets.UTF_8).length).sum();
        ByteBuffer directory = ByteBuffer.allocate(directoryBytes).order(ByteOrder.LITTLE_ENDIAN);
        long position = 0;
        for (Map.Entry<String, byte[]> m : members.entrySet()) {
            byte[] name = m.getKey().getBytes(StandardCharsets.UTF_8);
            long size = m.getValue() == null ? sparse.get(m.getKey()) : m.getValue().length;
            Integer given = crcs.get(m.getKey());
            int crc = given != null ? given : m.getValue() == null ? zerosCrc(size) : crc(m.getValue());
            long local = position;
            int padding = (int) ((64 - (local + 30 + name.length + 4) % 64) % 64);
            ByteBuffer header = ByteBuffer.allocate(30 + name.length + 4 + padding).order(ByteOrder.LITTLE_ENDIAN);
            header.putInt(0x04034b50).putShort((short) 20).putShort((short) 0x0808).putShort((short) 0)
                    .putInt(0).putInt(0).putInt(0).putInt(0).putShort((short) name.length)
                    .putShort((short) (4 + padding)).put(name).putShort((short) 0x4246).putShort((short) padding)
                    .put(new byte[padding]);
            out.add(new Chunk(position, header.array()));
            position += header.capacity();
            if (m.getValue() != null) {
                out.add(new Chunk(position, m.getValue()));
            }
            position += size;
            ByteBuffer descriptor = ByteBuffer.allocate(zip64 || size > 0xFFFFFFFFL ? 24 : 16).order(ByteOrder.LITTLE_ENDIAN);
            descriptor.putInt(0x08074b50).putInt(crc);
            if (descriptor.capacity() == 24) {
                descriptor.putLong(size).putLong(size);
            } else {
                descriptor.putInt((int) size).putInt((int) size);
            }
            out.add(new Chunk(position, descriptor.array()));
            position += descriptor.capacity();

            boolean wide = zip64 || size > 0xFFFFFFFFL || local > 0xFFFFFFFFL;
            directory.putInt(0x02014b50).putShort((short) 45).putShort((short) 20).putShort((short) 0x0808)
                    .putShort((short) 0).putInt(0).putInt(crc)
                    .putInt(wide ? -1 : (int) size).putInt(wide ? -1 : (int) size)
                    .putShort((short) name.length).putShort((short) (wide ? 28 : 0)).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt(0).putInt(wide ? -1 : (int) local).put(name);
            if (wide) {
                directory.putShort((short) 1).putShort((short) 24).putLong(size).putLong(size).putLong(local);
            }
        }
        long directoryOffset = position;
        int directorySize = directory.position();
        out.add(new Chunk(position, Arrays.copyOf(directory.array(), directorySize)));
        position += directorySize;
        boolean wide = zip64 || directoryOffset > 0xFFFFFFFFL;
        ByteBuffer end = ByteBuffer.allocate((wide ? 56 + 20 : 0) + 22).order(ByteOrder.LITTLE_ENDIAN);
        if (wide) {
            end.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                    .putLong(members.size()).putLong(members.size()).putLong(directorySize).putLong(directoryOffset);
            end.putInt(0x07064b50).putInt(0).putLong(position).putInt(1);
        }
        end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
                .putShort((short) (wide ? -1 : members.size())).putShort((short) (wide ? -1 : members.size()))
                .putInt(wide ? -1 : directorySize).putInt(wide ? -1 : (int) directoryOffset).putShort((short) 0);
        out.add(new Chunk(position, end.array()));
        return position + end.capacity();
    }

    static int crc(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return (int) crc.getValue();
    }

    private static int zerosCrc(long size) {
        CRC32 crc = new CRC32();
        byte[] zeros = new byte[1 << 20];
        for (long left = size; left > 0; left -= zeros.length) {
            crc.update(zeros, 0, (int) Math.min(left, zeros.length));
        }
        return (int) crc.getValue();
    }
}
