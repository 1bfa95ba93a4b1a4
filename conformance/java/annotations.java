package ann;

@SuppressWarnings({"unchecked", "rawtypes"})
@Deprecated(since = "9", forRemoval = true)
public class Annotated {
    @Inject @Named("a(b)") private String injected;

    @Target({ElementType.FIELD, ElementType.METHOD})
    @Retention(RetentionPolicy.RUNTIME)
    public @interface Marker {
        String value() default "";
        int[] numbers() default {1, 2, 3};
        Class<?> type() default Object.class;
        Nested nested() default @Nested(name = "x", tags = {"a", "b"});
        String LIMIT = "limit";
    }

    @interface Nested { String name(); String[] tags() default {}; }

    @Override
    public @Deprecated String toString() { return ""; }

    void typeAnnotations(@NonNull String s) {}

    java.lang.@NonNull String annotatedType;

    String @NonNull [] annotatedArray;
}
