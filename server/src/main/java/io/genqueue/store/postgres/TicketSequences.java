package io.genqueue.store.postgres;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ticket sequence of each (model, lane): {@code queue_ticket_<id>}, where {@code id} is the
 * lane's row in {@code queue_lanes}. A lane's row and sequence are made by whichever process first
 * submits to it, under an advisory lock so that processes starting together make one; the names
 * never change, so each process remembers them.
 */
final class TicketSequences {

    /** The advisory lock that serialises making lanes ("gqlane" in ASCII). */
    private static final long LANES_LOCK = 0x67716c616e65L;

    private final Jdbc jdbc;
    private final ConcurrentHashMap<Lane, String> names = new ConcurrentHashMap<>();

    TicketSequences(Jdbc jdbc) {
        this.jdbc = jdbc;
    }

    /** The lane's sequence name (a plain identifier, safe to put into SQL text); makes it if new. */
    String sequenceOf(Lane lane) {
        String name = names.get(lane);
        if (name == null) {
            name = find(lane);
            names.put(lane, name);
        }
        return name;
    }

    private String find(Lane lane) {
        return jdbc.transaction(c -> {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_xact_lock(" + LANES_LOCK + ")");
            }
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT id FROM queue_lanes WHERE model = ? AND lane = ?", lane.model(),
                    (short) lane.lane());
                    ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return name(rs.getInt(1));
                }
            }
            int id;
            try (PreparedStatement ps = Jdbc.prepare(c, "INSERT INTO queue_lanes (model, lane) VALUES (?, ?) RETURNING id", lane.model(),
                    (short) lane.lane());
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getInt(1);
            }
            try (Statement s = c.createStatement()) {
                s.execute("CREATE SEQUENCE IF NOT EXISTS " + name(id)); // one left by a truncated queue_lanes only numbers on
            }
            return name(id);
        });
    }

    private static String name(int id) {
        return "queue_ticket_" + id;
    }
}
