package quirk;

public class Flat {
public int flatField;
private String flatName;
public Flat() {}
public void flatMethod() {}
static class FlatNested {}
int plainField;
void plainMethod() {}
}
