package gen;

import java.util.*;
import java.util.function.*;

public class Generics<K extends Comparable<K>, V> implements Map.Entry<K, V> {
    private final Map<String, List<int[]>> nested = new HashMap<String, List<int[]>>(), other = null;
    private Map<String, Map<String, List<Integer>>> deep;
    List<? extends Number> wild, card;
    Function<Map<String, Integer>, List<? super Integer>> fn = (m) -> null;
    int x = 1 < 2 ? 3 : 4, y = 5 > 4 ? 1 : 0;
    boolean lt = 1 < 2, gt = 3 > 2;
    Comparator<String> cmp = Comparator.<String, Integer>comparing(String::length), cmp2;

    public <T extends Comparable<? super T>> List<T> sorted(Collection<T> in) { return null; }

    <A, B> Generics(Map<A, B> m) {}

    public static <R> R[] array(R... items) { return items; }

    java.util.Map<String, java.util.List<String>> qualified;

    public K getKey() { return null; }
    public V getValue() { return null; }
    public V setValue(V v) { return v; }
}
