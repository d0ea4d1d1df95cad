package dev.corral.plan;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The plan's wire format, read by native/src/plan.c:
 * {@code "CRLP" u32 version u32 length | u64 clone_flags u32 nsteps | (u16 op u16 argc (u32 len bytes)*)*},
 * little endian.
 */
public final class PlanEncoder {
    public static final int VERSION = 1;

    private PlanEncoder() {}

    public static byte[] encode(LaunchPlan plan) {
        return encode(plan.cloneFlags(), plan.steps());
    }

    /** A plan's flags with these steps (the plan's own, and what launch adds for the monitor). */
    public static byte[] encode(long cloneFlags, java.util.List<Step> steps) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        writeLong(body, cloneFlags);
        writeInt(body, steps.size());
        for (Step s : steps) {
            if (s.args().size() > 0xFFFF) throw new IllegalArgumentException("too many arguments in " + s.words());
            writeShort(body, s.op().code());
            writeShort(body, s.args().size());
            for (String a : s.args()) {
                byte[] b = a.getBytes(StandardCharsets.UTF_8);
                writeInt(body, b.length);
                body.writeBytes(b);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.size() + 12);
        out.writeBytes("CRLP".getBytes(StandardCharsets.US_ASCII));
        writeInt(out, VERSION);
        writeInt(out, body.size());
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static void writeShort(ByteArrayOutputStream o, int v) {
        o.write(v & 0xFF);
        o.write((v >>> 8) & 0xFF);
    }

    private static void writeInt(ByteArrayOutputStream o, int v) {
        o.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    private static void writeLong(ByteArrayOutputStream o, long v) {
        o.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }
}
