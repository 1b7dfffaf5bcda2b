package com.scratchgpt.generation;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;

/**
 * The sequences waiting for a generation slot, and the places the requests in flight hold. A request
 * claims a generation slot for each of its sequences up to its share ({@code maxRequestSlots}); its other
 * sequences take queue places, as do slots claimed beyond {@code maxConcurrent}. A request whose sequences
 * would not all find a place is refused whole (429), so a big request never fills the queue with
 * sequences that could not run while slots stand free.
 * <p>
 * Waiting sequences are admitted fairly: of the requests below their share of the slots and of the KV
 * cache, the one holding the fewest slots goes first, the earliest among equals; so a newcomer goes ahead
 * of the remaining sequences of a request already running. Not thread-safe: guarded by the scheduler's lock.
 */
final class FairQueue {

    private final BatchScheduler.Limits limits;
    private final List<Sequence> waiting = new ArrayList<>(); // in arrival order
    private int slotsClaimed;      // over the requests in flight: min(remaining, maxRequestSlots)
    private int placesBeyondShare; // over the requests in flight: max(0, remaining - maxRequestSlots)

    FairQueue(BatchScheduler.Limits limits) {
        this.limits = limits;
    }

    /** Queues the sequences of one request (one group), or refuses them all when they would not all find a place. */
    void offer(List<Sequence> sequences) {
        int share = limits.maxRequestSlots();
        int claimed = slotsClaimed + Math.min(sequences.size(), share);
        int beyondShare = placesBeyondShare + Math.max(0, sequences.size() - share);
        if (queuePlaces(claimed, beyondShare) > limits.maxQueue()) {
            throw new OverloadedException("the " + limits.maxConcurrent() + " generation slots and " + limits.maxQueue()
                    + " queue places cannot take " + sequences.size() + " more sequences now", 1);
        }
        slotsClaimed = claimed;
        placesBeyondShare = beyondShare;
        sequences.get(0).group.remaining = sequences.size();
        waiting.addAll(sequences);
    }

    /**
     * The next sequence to admit, left in the queue until {@link #admitted}: of the requests below their
     * share, the one holding the fewest slots, the earliest among equals. Null when none is below its share.
     */
    Sequence next() {
        Sequence next = null;
        for (Sequence seq : waiting) {
            SequenceGroup request = seq.group;
            boolean belowShare = request.running < limits.maxRequestSlots()
                    && request.kvTokens + seq.cacheCapacity() <= limits.maxRequestKvTokens();
            if (belowShare && (next == null || request.running < next.group.running)) {
                next = seq;
            }
        }
        return next;
    }

    /**
     * Claims one slot for an inspection, as for a request of one sequence, or refuses it (429) when that would
     * take a queue place there is not.
     */
    void claimSlot() {
        if (queuePlaces(slotsClaimed + 1, placesBeyondShare) > limits.maxQueue()) {
            throw new OverloadedException("the " + limits.maxConcurrent() + " generation slots and " + limits.maxQueue()
                    + " queue places are all claimed", 1);
        }
        slotsClaimed++;
    }

    /** The inspection that claimed a slot has ended. */
    void releaseSlot() {
        slotsClaimed--;
    }

    /** The sequence {@link #next} gave has its slot and its KV cache. */
    void admitted(Sequence seq) {
        waiting.remove(seq);
        seq.group.running++;
        seq.group.kvTokens += seq.cache().capacity();
    }

    /** A running sequence gave its slot and cache back to wait again, behind those waiting now. */
    void requeued(Sequence seq) {
        seq.group.running--;
        seq.group.kvTokens -= seq.cache().capacity();
        waiting.add(seq);
    }

    /** A running sequence ended (finished, cancelled, past its deadline or failed) and gave its cache back. */
    void released(Sequence seq) {
        seq.group.running--;
        seq.group.kvTokens -= seq.cache().capacity();
        ended(seq.group);
    }

    /** Ends the waiting sequences past their deadline, and forgets those cancelled while waiting. */
    void expire(long now) {
        waiting.removeIf(seq -> {
            if (now - seq.deadlineNanos > 0) {
                seq.result.completeExceptionally(new DeadlineExceededException("the request waited past its deadline"));
            } else if (!seq.result.isDone()) {
                return false;
            }
            ended(seq.group);
            return true;
        });
    }

    /** Ends every waiting sequence with this cancellation. */
    void cancelAll(String reason) {
        for (Sequence seq : waiting) {
            seq.result.completeExceptionally(new CancellationException(reason));
            ended(seq.group);
        }
        waiting.clear();
    }

    int size() {
        return waiting.size();
    }

    int slotsClaimed() {
        return slotsClaimed;
    }

    /** Queue places taken: sequences beyond their request's share, and slots claimed beyond the slots there are. */
    int queuePlacesTaken() {
        return queuePlaces(slotsClaimed, placesBeyondShare);
    }

    private int queuePlaces(int claimed, int beyondShare) {
        return beyondShare + Math.max(0, claimed - limits.maxConcurrent());
    }

    /** One of a request's sequences ended: it claims one place less. */
    private void ended(SequenceGroup request) {
        int share = limits.maxRequestSlots();
        int before = request.remaining--;
        slotsClaimed += Math.min(request.remaining, share) - Math.min(before, share);
        placesBeyondShare += Math.max(0, request.remaining - share) - Math.max(0, before - share);
    }
}
