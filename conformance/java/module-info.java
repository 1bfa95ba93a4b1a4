/** Module declarations produce no symbols. */
open module com.example.app {
    requires transitive java.sql;
    exports com.example.api to com.example.client;
    opens com.example.internal;
    uses com.example.spi.Service;
    provides com.example.spi.Service with com.example.impl.ServiceImpl;
}
