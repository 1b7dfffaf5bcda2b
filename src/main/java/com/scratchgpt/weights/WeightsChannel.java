package com.scratchgpt.weights;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Function;

/**
 * A weights file open for reading: positioned reads of its headers, and its tensor data memory-mapped one
 * region at a time and released at once, so that loading never holds the whole file. Every failure is a
 * {@link CheckpointException} naming the file.
 */
final class WeightsChannel implements AutoCloseable {

    private final Path path;
    private final FileChannel channel;
    private final long size;

    private WeightsChannel(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    static WeightsChannel open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path, null, "file not found");
        } catch (IOException e) {
            throw new CheckpointException(path, null, "cannot open: " + e.getMessage(), e);
        }
        try {
            return new WeightsChannel(path, channel, channel.size());
        } catch (IOException e) {
            closeQuietly(channel);
            throw new CheckpointException(path, null, "cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Opens path and reads it with {@code read}, whose result then owns the channel; if reading fails, the
     * channel is closed before the failure propagates.
     */
    static <T> T open(Path path, Function<WeightsChannel, T> read) {
        WeightsChannel channel = open(path);
        try {
            return read.apply(channel);
        } catch (RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    Path path() {
        return path;
    }

    long size() {
        return size;
    }

    /** Exactly length bytes at position, little-endian; the caller has checked that they lie in the file. */
    ByteBuffer read(long position, int length) {
        ByteBuffer dst = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (dst.hasRemaining()) {
                if (channel.read(dst, position + dst.position()) < 0) {
                    throw new CheckpointException(path, null, "cannot read: unexpected end of file at byte "
                            + (position + dst.position()));
                }
            }
        } catch (IOException e) {
            throw new CheckpointException(path, null, "cannot read: " + e.getMessage(), e);
        }
        return dst.flip();
    }

    /** The bytes of one tensor, mapped until the region is closed. */
    Region map(String tensor, long position, long bytes) {
        if (bytes > Integer.MAX_VALUE) {
            // one mapping, like one float buffer, holds at most 2 GB; GPT-2 XL's largest tensor is 322 MB
            throw new CheckpointException(path, tensor, bytes + " bytes: more than the 2 GB one tensor may hold");
        }
        try {
            return new Region(channel.map(FileChannel.MapMode.READ_ONLY, position, bytes));
        } catch (IOException e) {
            throw new CheckpointException(path, tensor, "cannot map the data: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was written; closing a read-only channel cannot lose data
        }
    }

    /** A mapped region of the file, released on close. */
    static final class Region implements AutoCloseable {

        private final MappedByteBuffer mapped;

        private Region(MappedByteBuffer mapped) {
            this.mapped = mapped;
        }

        /** The region's bytes, little-endian, positioned at its start. */
        ByteBuffer bytes() {
            return mapped.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }

        /** Releases the mapping now instead of at some later GC. */
        @Override
        public void close() {
            try {
                Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
                f.setAccessible(true);
                ((sun.misc.Unsafe) f.get(null)).invokeCleaner(mapped);
            } catch (ReflectiveOperationException | RuntimeException ignored) {
                // the mapping is then released when the buffer is collected
            }
        }
    }
}
